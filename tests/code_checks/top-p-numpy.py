# Checks for the code of card top-p-numpy (run after it, in the same interpreter).
p = np.array([0.06, 0.5, 0.04, 0.3, 0.1])          # unsorted on purpose
q = top_p_filter(p, 0.85)
assert np.allclose(q, [0, 0.5 / 0.9, 0, 0.3 / 0.9, 0.1 / 0.9])
assert np.allclose(top_p_filter(p, 0.5), [0, 1, 0, 0, 0])   # reaching t exactly stops there
assert np.allclose(top_p_filter(p, 0.3), [0, 1, 0, 0, 0])   # the top token is always kept
assert np.allclose(top_p_filter(p, 1.0), p)                 # t = 1 keeps everything
assert np.isclose(q.sum(), 1.0)
