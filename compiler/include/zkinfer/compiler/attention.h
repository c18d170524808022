// The attention ops of opset 23 written out into the ops the compiler already proves, as
// exporters wrote them before that opset. Attention (scaled dot-product attention): Q K^T
// (MatMul of a Transpose), times the scale, capped by a Tanh with softcap, plus the mask's and
// the causal mask's bias (an added constant holding -inf), Softmax over the keys, times V; a KV
// cache is a Concat before. 3-D inputs [batch, seq, heads * head_size] are reshaped to
// [batch, heads, seq, head_size] and back; with fewer key/value heads than query heads (GQA,
// MQA) each key/value head is tiled for its group. RotaryEmbedding (RoPE): Slices of each head,
// products with the cos and sin tables (gathered by position_ids), a Sub, an Add and a Concat.
// The new nodes are named "<node>/<part>".
#pragma once

#include <string>

#include "zkinfer/compiler/graph.h"

namespace zkinfer::compiler {

// Replaces every Attention and RotaryEmbedding node of `g` by its written-out form (a no-op
// without them).
// Attention: 3-D and 4-D Q, K and V (self and cross attention), q_num_heads a multiple of
// kv_num_heads, scale (default 1 / sqrt(head_size)), softcap (softcap tanh(scores / softcap)
// before the masks), a KV cache (past_key and past_value joined before this step's keys and
// values; present_key and present_value the joined ones), is_causal (key j is masked for query i
// where j > i + the past length), attn_mask over all keys as an additive float mask or a boolean
// mask (either may depend on the model's inputs: a padding mask). Anything else (the
// qk_matmul_output output, nonpad_kv_seqlen) is a ModelError naming the node.
// RotaryEmbedding: 3-D X (with num_heads) and 4-D X, halves or interleaved pairs, a partial
// rotary_embedding_dim, caches gathered by position_ids (computed indices included: an embedding
// lookup) or given per batch and position. Mismatched shapes are a ModelError naming the node.
// `file` prefixes the messages.
void expand_attention(Graph& g, const std::string& file);

}  // namespace zkinfer::compiler
