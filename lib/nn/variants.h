/* variants.h — the forms a cell comes in, named as the spec names them (model.form,
 * model.variant). Their own header because the cell table (cell.h) and the cells themselves
 * (rnn.h, gru.h) both speak of them, and neither should include the other's header to do so.
 *   RnnForm     RNN_ELMAN "elman" (h_t = φ(W·[h_{t−1}, x_t] + b), PyTorch's nn.RNN) or
 *               RNN_LECTURE "lecture" (the slide: h_t = θ φ(h_{t−1}) + θ_x x_t); rnn.h
 *   GruVariant  GRU_CHO "cho" (the slide: r_t multiplies h_{t−1} before the product) or
 *               GRU_PYTORCH "pytorch" (r_t multiplies the product, nn.GRU); gru.h */
#ifndef EXPRUN_VARIANTS_H
#define EXPRUN_VARIANTS_H

typedef enum RnnForm { RNN_ELMAN, RNN_LECTURE } RnnForm;
typedef enum GruVariant { GRU_CHO, GRU_PYTORCH } GruVariant;

/* The spec's name of a form ("?" for a value out of range), and the form of a name (0, or −1
 * for a name that is none). */
const char *rnn_form_name(RnnForm f);
int rnn_form_from_name(const char *name, RnnForm *f);
const char *gru_variant_name(GruVariant v);
int gru_variant_from_name(const char *name, GruVariant *v);

#endif
