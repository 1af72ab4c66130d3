# Checks for the code of card attention-numpy (run after it, in the same interpreter).
rng = np.random.default_rng(0)
X = rng.normal(size=(5, 8))                           # 5 tokens, d_model = 8
Wq, Wk, Wv = (rng.normal(size=(8, 8)) for _ in range(3))
out, w = attention(X @ Wq, X @ Wk, X @ Wv, causal=True)
assert out.shape == (5, 8) and np.allclose(w.sum(axis=1), 1)
assert np.allclose(np.triu(w, k=1), 0)               # no weight on the future
assert np.allclose(out[0], (X @ Wv)[0])              # the first token sees only itself
Q, K, V = X @ Wq, X @ Wk, X @ Wv
e = np.exp(Q @ K.T / np.sqrt(8))
assert np.allclose(attention(Q, K, V)[0], e / e.sum(axis=1, keepdims=True) @ V)
