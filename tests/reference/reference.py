"""
An independent numpy forward pass for llama2.c checkpoints, to check the C engine.

It shares nothing with the C code but the file format and the model's definition: the
checkpoint is read with numpy, and the transformer is written plainly in float64 (matrix
products, no caching tricks beyond the KV cache). For int8 (version 2) files it can also
simulate the int8 engine: weights used as their int8 values and scales, and each matrix
product's input vector quantized to Q8_0 first (per group: scale = max|x| / 127 in
float32, q = round(x / scale) halves away from zero), the group products summed exactly.

The RoPE angles are the one place where the definition itself is float32: llama2.c
computes freq = 1 / 10000^(i / head_size) and theta = pos * freq in float, and so does
the C engine, so the reference does the same before taking cos and sin in float64.
"""
import struct

import numpy as np

MAGIC = 0x616B3432
BOS = 1


class Model:
    """The parameters and weights of a checkpoint (weights as float64 arrays)."""

    def __init__(self, path):
        data = open(path, "rb").read()
        (magic,) = struct.unpack_from("<I", data, 0)
        self.int8 = magic == MAGIC
        if self.int8:
            self._read_v2(data)
        else:
            self._read_legacy(data)

    def _params(self, values):
        (self.dim, self.hidden_dim, self.n_layers, self.n_heads, self.n_kv_heads,
         self.vocab_size, self.seq_len) = values
        self.head_size = self.dim // self.n_heads
        self.kv_dim = self.head_size * self.n_kv_heads

    def _read_legacy(self, data):
        header = struct.unpack_from("<7i", data, 0)
        self._params(header)
        self.shared = self.vocab_size > 0
        self.vocab_size = abs(self.vocab_size)
        floats = np.frombuffer(data, dtype="<f4", offset=28).astype(np.float64)
        at = 0

        def take(*shape):
            nonlocal at
            n = int(np.prod(shape))
            t = floats[at:at + n].reshape(shape)
            at += n
            return t

        L, D, H, KV, V = (self.n_layers, self.dim, self.hidden_dim, self.kv_dim,
                          self.vocab_size)
        self.tok = take(V, D)
        self.rms_att = take(L, D)
        self.wq = take(L, D, D)
        self.wk = take(L, KV, D)
        self.wv = take(L, KV, D)
        self.wo = take(L, D, D)
        self.rms_ffn = take(L, D)
        self.w1 = take(L, H, D)
        self.w2 = take(L, D, H)
        self.w3 = take(L, H, D)
        self.rms_final = take(D)
        take(2, self.seq_len, self.head_size // 2)   # freq_cis_real, freq_cis_imag
        self.wcls = self.tok if self.shared else take(V, D)
        assert at == floats.size, "file size does not match the header"

    def _read_v2(self, data):
        magic, version = struct.unpack_from("<Ii", data, 0)
        assert version == 2
        self._params(struct.unpack_from("<7i", data, 8))
        self.shared = data[36] == 1
        (self.group_size,) = struct.unpack_from("<i", data, 37)
        at = 256
        L, D, H, KV, V = (self.n_layers, self.dim, self.hidden_dim, self.kv_dim,
                          self.vocab_size)
        gs = self.group_size

        def floats(*shape):
            nonlocal at
            n = int(np.prod(shape))
            t = np.frombuffer(data, dtype="<f4", count=n, offset=at).reshape(shape)
            at += 4 * n
            return t.astype(np.float64)

        def q8(count, rows, cols):
            # Each matrix: rows*cols int8 values, then one float32 scale per group.
            nonlocal at
            qs, ss = [], []
            for _ in range(count):
                n = rows * cols
                q = np.frombuffer(data, dtype=np.int8, count=n, offset=at)
                at += n
                s = np.frombuffer(data, dtype="<f4", count=n // gs, offset=at)
                at += 4 * (n // gs)
                qs.append(q.reshape(rows, cols // gs, gs).astype(np.int64))
                ss.append(s.reshape(rows, cols // gs).astype(np.float64))
            return np.stack(qs), np.stack(ss)

        self.rms_att = floats(L, D)
        self.rms_ffn = floats(L, D)
        self.rms_final = floats(D)
        self.q = {}
        self.q["tok"] = q8(1, V, D)
        for name, rows, cols in (("wq", D, D), ("wk", KV, D), ("wv", KV, D), ("wo", D, D),
                                 ("w1", H, D), ("w2", D, H), ("w3", H, D)):
            self.q[name] = q8(L, rows, cols)
        self.q["wcls"] = self.q["tok"] if self.shared else q8(1, V, D)
        assert at == len(data), "file size does not match the header"
        # Dequantized weights, for running the float path on the same values.
        for name, (q, s) in self.q.items():
            w = (q * s[..., None]).reshape(q.shape[0], q.shape[1], -1)
            setattr(self, name, w[0] if name in ("tok", "wcls") else w)


def rmsnorm(x, w):
    return w * (x / np.sqrt(np.mean(x * x) + 1e-5))


def softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def quantize_q8(x, gs):
    """Q8_0 as the engine does it, in float32: (int values [groups, gs], scales)."""
    x = np.asarray(x, dtype=np.float32).reshape(-1, gs)
    scale = (np.max(np.abs(x), axis=1) / np.float32(127.0)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = (x / scale[:, None]).astype(np.float32)
    v = np.where(scale[:, None] == 0, 0, v).astype(np.float64)
    q = np.sign(v) * np.floor(np.abs(v) + 0.5)
    return np.clip(q, -127, 127).astype(np.int64), scale.astype(np.float64)


class Runner:
    """One sequence through the model: step(token, pos) returns the logits (float64).

    int8_activations: for a version 2 model, quantize each matrix product's input as the
    int8 engine does (otherwise the dequantized weights meet float64 activations).
    """

    def __init__(self, model, int8_activations=False):
        m = self.m = model
        assert not int8_activations or m.int8
        self.int8_activations = int8_activations
        self.kcache = np.zeros((m.n_layers, m.seq_len, m.kv_dim))
        self.vcache = np.zeros((m.n_layers, m.seq_len, m.kv_dim))
        f32 = np.float32
        i = np.arange(0, m.head_size, 2)
        self.inv_freq = (f32(1.0) / np.power(f32(10000.0), i.astype(f32) / f32(m.head_size))
                         ).astype(f32)

    def linear(self, name, layer, x):
        m = self.m
        if not self.int8_activations:
            w = getattr(m, name)
            return (w if layer is None else w[layer]) @ x
        q, s = m.q[name]
        q, s = q[0 if layer is None else layer], s[0 if layer is None else layer]
        xq, xs = quantize_q8(x, m.group_size)
        groups = np.einsum("rgk,gk->rg", q, xq)   # exact integer dot per group
        return np.sum(groups * s * xs[None, :], axis=1)

    def rope(self, v, n_heads, pos):
        theta = (np.float32(pos) * self.inv_freq).astype(np.float64)
        c, s = np.cos(theta), np.sin(theta)
        v = v.reshape(n_heads, -1, 2)
        a, b = v[..., 0].copy(), v[..., 1].copy()
        v[..., 0] = a * c - b * s
        v[..., 1] = a * s + b * c
        return v.reshape(-1)

    def step(self, token, pos):
        m = self.m
        hs = m.head_size
        if m.int8:
            q, s = m.q["tok"]
            x = (q[0][token] * s[0][token][:, None]).reshape(-1).astype(np.float64)
        else:
            x = m.tok[token].copy()
        for l in range(m.n_layers):
            xb = rmsnorm(x, m.rms_att[l])
            q = self.rope(self.linear("wq", l, xb), m.n_heads, pos)
            k = self.rope(self.linear("wk", l, xb), m.n_kv_heads, pos)
            v = self.linear("wv", l, xb)
            self.kcache[l, pos] = k
            self.vcache[l, pos] = v
            out = np.zeros(m.dim)
            group = m.n_heads // m.n_kv_heads
            for h in range(m.n_heads):
                kvh = h // group
                keys = self.kcache[l, :pos + 1, kvh * hs:(kvh + 1) * hs]
                values = self.vcache[l, :pos + 1, kvh * hs:(kvh + 1) * hs]
                att = softmax(keys @ q[h * hs:(h + 1) * hs] / np.sqrt(hs))
                out[h * hs:(h + 1) * hs] = att @ values
            x = x + self.linear("wo", l, out)
            xb = rmsnorm(x, m.rms_ffn[l])
            gate = self.linear("w1", l, xb)
            up = self.linear("w3", l, xb)
            x = x + self.linear("w2", l, gate / (1.0 + np.exp(-gate)) * up)
        x = rmsnorm(x, m.rms_final)
        return self.linear("wcls", None, x)


def greedy(model, prompt, total):
    """The sequence of `total` ids llama2.c's loop makes with temperature 0: the prompt,
    then argmax tokens, stopping early if BOS is produced (not included)."""
    r = Runner(model)
    seq = list(prompt)
    pos = 0
    while len(seq) < total and pos < model.seq_len - 1:
        logits = r.step(seq[pos], pos)
        if pos + 1 >= len(seq):
            nxt = int(np.argmax(logits))
            if nxt == BOS:
                break
            seq.append(nxt)
        pos += 1
    return seq
