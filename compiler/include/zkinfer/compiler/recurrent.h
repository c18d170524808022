// The recurrent layers RNN, GRU and LSTM, unrolled over their (static) sequence into the ops the
// compiler already proves: per time step a Gather of the step's input, one Gemm per gate with the
// constant input and recurrent weights side by side (and both biases folded into its C), the
// gate activations, and products of computed tensors for the gating. The float reference,
// calibration, lowering and error accounting then see ordinary nodes, named
// "<layer>/d<direction>/t<step>/<part>" so errors and the compile report point into the layer.
#pragma once

#include <string>

#include "zkinfer/compiler/graph.h"

namespace zkinfer::compiler {

// Replaces every RNN, GRU and LSTM node of `g` by its unrolled form (a no-op without them).
// Supported: directions forward, reverse and bidirectional; layouts 0 and 1 (opset 14); the
// activations Sigmoid, Tanh and Relu in any slot; LSTM peepholes (constant P); GRU's
// linear_before_reset 0 and 1; initial states omitted, all-zero constants or computed tensors
// (model inputs: a stateful caller passes them in); sequence_lens omitted or the full length
// everywhere. W, R and B must be constants. Anything else (clip, input_forget, activation
// alpha/beta, other activations, varying sequence lengths, a nonzero constant initial state) is
// a ModelError naming the node and the attribute or input; `file` prefixes the messages.
void unroll_recurrent(Graph& g, const std::string& file);

}  // namespace zkinfer::compiler
