# Checks for the code of card numpy-gcn-layer (run after it, in the same interpreter).
rng = np.random.default_rng(0)
n = 6
A = np.triu((rng.random((n, n)) < 0.4).astype(float), 1)
A = A + A.T                                              # undirected, no self-loops
H, W = rng.standard_normal((n, 4)), rng.standard_normal((4, 3))
out = gcn_layer(A, H, W)
assert out.shape == (n, 3) and np.all(out >= 0)
deg = A.sum(axis=1) + 1                                  # degrees with the self-loop
for v in range(n):                                       # the per-node formula, written out
    hood = [v] + [u for u in range(n) if A[v, u]]
    msg = sum(H[u] / np.sqrt(deg[u] * deg[v]) for u in hood)
    assert np.allclose(out[v], np.maximum(0, msg @ W))
perm = rng.permutation(n)                                # permutation equivariance
assert np.allclose(gcn_layer(A[perm][:, perm], H[perm], W), out[perm])
assert np.allclose(A, A.T) and np.all(np.diag(A) == 0)   # the caller's matrix is not modified
