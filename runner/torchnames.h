/* torchnames.h — a run's parameters under the names PyTorch's own modules give them, for
 * `exprun export --format safetensors`.
 *
 * exprun's views (checkpoint.h: /model/<layer>/<view>) become a state_dict:
 *   dense layer  NAME/W (out, in), NAME/b      → NAME.weight, NAME.bias        (torch.nn.Linear)
 *                the autoencoder's enc<i>, dec<i>, the recurrent families' head
 *                a tied decoder (W* = Wᵀ, no view of its own) → dec<i>.weight, its encoder
 *                layer's W transposed, so that it loads into an untied nn.Linear
 *   embedding    NAME/W (vocab, embed)         → NAME.weight                   (torch.nn.Embedding)
 *   recurrent    layers <prefix><cell><l> (lstm0, gru1, enc_lstm0, ...): one module per stack,
 *                MODULE = the name without its layer number (lstm, enc_lstm) when every layer
 *                has the same width, as torch.nn.LSTM(num_layers = L) names them; otherwise
 *                one module per layer, MODULE = the layer's own name, each with l = 0:
 *                W (G·H, H + I) = [W_hh | W_ih] → MODULE.weight_hh_l<l>, MODULE.weight_ih_l<l>
 *                b (G·H) = b_ih + b_hh         → MODULE.bias_ih_l<l> = b, MODULE.bias_hh_l<l> = 0
 *                GRU b_hn (H), which r_t multiplies → bias_hh_l<l>'s gate n block
 *                (gate order as torch's: LSTM i,f,g,o; GRU r,z,n)
 *                learned initial states NAME/h0, NAME/c0 → MODULE.initial_h_l<l>, initial_c_l<l>
 *                one_to_many's state<l>/h, state<l>/c (class, H) → initial_state.h_l<l>, c_l<l>
 * Forms torch.nn has no module for — the lecture's RNN h_t = θ φ(h_{t−1}) + θ_x x_t (θ as
 * weight_hh, θ_x as weight_ih, no biases) and the GRU of Cho et al. (r_t multiplies h_{t−1}
 * before W_hh) — keep the same names; the metadata's `torch_modules` says so. */
#ifndef EXPRUN_TORCHNAMES_H
#define EXPRUN_TORCHNAMES_H

#include "error.h"
#include "params.h"
#include "safetensors.h"
#include "spec/spec.h"

typedef struct TorchState {
    StTensor *tensors;
    int n, cap;
    float **owned;                /* values made here (splits, zeros, transposes) */
    int n_owned;
    char *modules;                /* one line per module: "lstm: torch.nn.LSTM(64, 256, num_layers=2)" */
} TorchState;

/* p's views as a state_dict (values point into p or into memory ts owns). */
int torch_state_from_params(const Params *p, const Spec *spec, TorchState *ts, ExError *err);
void torch_state_free(TorchState *ts);

#endif
