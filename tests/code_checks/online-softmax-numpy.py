# Checks for the code of card online-softmax-numpy (run after it, in the same interpreter).
rng = np.random.default_rng(0)
s = rng.normal(size=10) * 30 + 1000.0        # large scores: a naive exp would overflow
V = rng.normal(size=(10, 4))
w = np.exp(s - s.max())
expected = (w / w.sum()) @ V
cuts = [0, 3, 8, 10]                          # uneven blocks, as in a tiled kernel
blocks = [(s[a:b], V[a:b]) for a, b in zip(cuts, cuts[1:])]
assert np.allclose(attend_blocks(blocks), expected)
assert np.allclose(attend_blocks([(s, V)]), expected)
# the block holding the maximum coming last forces a rescale of the running sums
order = np.argsort(s)
assert np.allclose(attend_blocks([(s[order[:5]], V[order[:5]]), (s[order[5:]], V[order[5:]])]), expected)
