# Checks for the code of card numpy-batchnorm-inference (run after it, in the same interpreter).
x = np.array([[3.0, 10.0]])                          # a batch of one
y = bn_eval(x, gamma=np.array([2.0, 1.0]), beta=np.array([0.0, 1.0]),
            mean=np.array([1.0, 10.0]), var=np.array([4.0, 1.0]))
assert np.allclose(y, [[2.0, 1.0]])
