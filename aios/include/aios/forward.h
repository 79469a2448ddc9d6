/*
 * libaios forward pass: one token in, the logits for the next token out, for a Llama-2
 * style transformer (RMSNorm, RoPE, grouped-query attention with a KV cache, SwiGLU).
 *
 * A run state holds the activations and the KV cache of one sequence; it lives in an
 * arena, so the partition can place it in memory it has planned (aios_state_size says
 * how much). Positions must be fed in order 0, 1, 2, ...: position pos attends to the
 * cache entries 0..pos, which earlier calls filled; feeding pos again overwrites its
 * entry, so a sequence can be restarted at any earlier position.
 */
#ifndef AIOS_FORWARD_H
#define AIOS_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "aios/common.h"
#include "aios/exec.h"
#include "aios/model.h"

struct aios_state {
    const struct aios_model *model;
    float *x;          /* residual stream [dim] */
    float *xb;         /* normed input / attention output [dim] */
    float *xb2;        /* a block's output before the residual add [dim] */
    float *hb, *hb2;   /* feed-forward hidden [hidden_dim] */
    float *q;          /* query [dim] */
    float *att;        /* attention weights [n_heads][seq_len] */
    float *logits;     /* [vocab_size] */
    float *key_cache;    /* [n_layers][seq_len][kv_dim] */
    float *value_cache;  /* [n_layers][seq_len][kv_dim] */
    float *inv_freq;   /* RoPE frequency per pair of a head [head_size / 2] */
    float *rope_cos, *rope_sin;   /* this position's rotation per pair [head_size / 2] */
    int8_t *xq;        /* Q8_0 models: the quantized input of a product of dim columns [dim] */
    float *xs;         /* and its scales */
    int8_t *hq;        /* Q8_0 models: the quantized feed-forward hidden, w2's input [hidden_dim] */
    float *hqs;        /* and its scales */
};

/* Bytes aios_state_init takes from an arena for model m (alignment padding included). */
size_t aios_state_size(const struct aios_model *m);

/* Allocate and initialise s for m from arena. AIOS_OK, or AIOS_ENOMEM (arena left as it
 * was) with the reason in err. */
int aios_state_init(struct aios_state *s, const struct aios_model *m,
                    struct aios_arena *arena, char *err, size_t errlen);

/*
 * Run token at position pos through the model; returns the logits ([vocab_size], in s,
 * valid until the next call), or NULL when token is not in [0, vocab_size) or pos not in
 * [0, seq_len). exec spreads the matrix products and the attention heads over cores
 * (NULL: this thread only); the logits are bit-identical for any exec.
 */
const float *aios_forward(struct aios_state *s, int32_t token, int32_t pos,
                          struct aios_exec *exec);

#endif /* AIOS_FORWARD_H */
