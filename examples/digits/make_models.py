#!/usr/bin/python3
# Makes the example models for `zkinfer compile`: a small MLP and a small CNN trained on
# scikit-learn's bundled 8x8 digits data set (no download), exported to ONNX, with sample inputs.
#
# Needs the Debian 12 packages python3-onnx, python3-numpy, python3-sklearn and python3-torch
# (the distribution's own Python; another python3 earlier on PATH may lack these modules):
#   apt-get install -y --no-install-recommends python3-onnx python3-numpy python3-sklearn python3-torch
# Run from anywhere (outputs go next to this script):
#   /usr/bin/python3 examples/digits/make_models.py
#
# Deterministic: fixed seeds, one CPU thread, deterministic torch algorithms. Writes
# mlp.onnx, cnn.onnx, input.json, input_cnn.json, calibration.json, calibration_cnn.json and
# expected.json.

import json
import os
import random

import numpy as np
import onnx
import torch
import torch.nn as nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13
N_CALIBRATION = 32


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class MLP(nn.Module):
    # input [1,64] -> Gemm 64x32 -> Relu -> Gemm 32x10 -> logits [1,10]
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class CNN(nn.Module):
    # input [1,1,8,8] -> Conv 4x3x3 pad 1 -> Relu -> MaxPool 2x2 -> [1,4,4,4]
    # -> Conv 8x3x3 pad 1 -> Relu -> AveragePool 2x2 -> [1,8,2,2] -> Flatten [1,32] -> Gemm 32x10
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(4, 8, kernel_size=3, padding=1)
        self.pool2 = nn.AvgPool2d(2, count_include_pad=False)  # no padding; avoids a Pad node in the export
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool1(torch.relu(self.conv1(x)))
        x = self.pool2(torch.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


def train(model, x_train, y_train, epochs, lr, batch=32):
    seed_everything(SEED)  # same batch order whatever ran before
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    n = x_train.shape[0]
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
    model.eval()


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def export(model, example, path):
    torch.onnx.export(
        model, example, path,
        export_params=True, opset_version=OPSET, do_constant_folding=True,
        input_names=["input"], output_names=["logits"])  # no dynamic_axes: batch fixed at 1
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = [n.op_type for n in m.graph.node]
    dims = lambda vi: [d.dim_value for d in vi.type.tensor_type.shape.dim]
    print(f"{os.path.basename(path)}: {os.path.getsize(path)} bytes, opset "
          f"{m.opset_import[0].version}, input {dims(m.graph.input[0])}, "
          f"output {dims(m.graph.output[0])}")
    print(f"  ops: {' -> '.join(ops)}")
    return ops


def pixels(raw):
    # raw digits pixels are integers 0..16; k/16 is exact in at most 4 decimals (0 and 1 as integers)
    return [int(v) // 16 if int(v) % 16 == 0 else int(v) / 16 for v in raw]


def nested(flat, shape):
    a = np.array(flat, dtype=object).reshape(shape)
    return a.tolist()


def dump(obj, path, one_line_per_item=False):
    with open(path, "w") as f:
        if one_line_per_item:
            f.write("[\n" + ",\n".join(json.dumps(o, separators=(",", ":")) for o in obj) + "\n]\n")
        else:
            f.write(json.dumps(obj, separators=(",", ":")) + "\n")


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    seed_everything(SEED)

    digits = load_digits()
    raw, labels = digits.data.astype(np.int64), digits.target.astype(np.int64)
    idx_train, idx_test = train_test_split(
        np.arange(len(labels)), test_size=0.25, random_state=SEED, stratify=labels)
    x = torch.tensor(raw, dtype=torch.float32) / 16.0
    y = torch.tensor(labels)
    x_train, y_train = x[idx_train], y[idx_train]
    x_test, y_test = x[idx_test], y[idx_test]
    print(f"digits: {len(idx_train)} training, {len(idx_test)} test images")

    seed_everything(SEED)
    mlp = MLP()
    train(mlp, x_train, y_train, epochs=100, lr=2e-3)
    mlp_acc = accuracy(mlp, x_test, y_test)

    seed_everything(SEED)
    cnn = CNN()
    train(cnn, x_train.reshape(-1, 1, 8, 8), y_train, epochs=100, lr=5e-3)
    cnn_acc = accuracy(cnn, x_test.reshape(-1, 1, 8, 8), y_test)
    print(f"test accuracy: MLP {mlp_acc:.4f}, CNN {cnn_acc:.4f}")

    export(mlp, torch.zeros(1, 64), os.path.join(HERE, "mlp.onnx"))
    export(cnn, torch.zeros(1, 1, 8, 8), os.path.join(HERE, "cnn.onnx"))

    # the sample input: the first test image that both models classify correctly
    with torch.no_grad():
        ok = (mlp(x_test).argmax(1) == y_test) & (cnn(x_test.reshape(-1, 1, 8, 8)).argmax(1) == y_test)
    i = int(idx_test[int(ok.nonzero()[0])])
    image = pixels(raw[i])
    dump(nested(image, (1, 64)), os.path.join(HERE, "input.json"))
    dump(nested(image, (1, 1, 8, 8)), os.path.join(HERE, "input_cnn.json"))

    # calibration: the first 32 training images
    calib = [pixels(raw[int(j)]) for j in idx_train[:N_CALIBRATION]]
    dump([nested(c, (1, 64)) for c in calib], os.path.join(HERE, "calibration.json"), True)
    dump([nested(c, (1, 1, 8, 8)) for c in calib], os.path.join(HERE, "calibration_cnn.json"), True)

    xi = torch.tensor([image], dtype=torch.float32)
    with torch.no_grad():
        mlp_logits = mlp(xi)[0].tolist()
        cnn_logits = cnn(xi.reshape(1, 1, 8, 8))[0].tolist()
    expected = {
        "note": "float32 logits of the trained models (PyTorch) on input.json / input_cnn.json; "
                "for humans, not a test oracle",
        "label": int(labels[i]),
        "mlp": {"logits": [round(v, 6) for v in mlp_logits],
                "predicted": int(np.argmax(mlp_logits)), "test_accuracy": round(mlp_acc, 4)},
        "cnn": {"logits": [round(v, 6) for v in cnn_logits],
                "predicted": int(np.argmax(cnn_logits)), "test_accuracy": round(cnn_acc, 4)},
    }
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")
    print(f"input: test image {i}, label {expected['label']}; "
          f"MLP predicts {expected['mlp']['predicted']}, CNN predicts {expected['cnn']['predicted']}")


if __name__ == "__main__":
    main()
