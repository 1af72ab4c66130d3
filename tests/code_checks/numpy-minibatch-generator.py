# Checks for the code of card numpy-minibatch-generator (run after it, in the same interpreter).
rng = np.random.default_rng(0)
X, y = np.arange(10).reshape(10, 1), np.arange(10)
batches = list(minibatches(X, y, 4, rng))
assert [len(b[1]) for b in batches] == [4, 4, 2]
assert sorted(np.concatenate([b[1] for b in batches])) == list(range(10))
assert all(np.array_equal(bx[:, 0], by) for bx, by in batches)   # pairs stay aligned
assert not np.array_equal(np.concatenate([b[1] for b in batches]), np.arange(10))  # shuffled
