# Checks for the code of card numpy-max-pooling (run after it, in the same interpreter).
x = np.array([[1, 3, 2, 0],
              [4, 2, 1, 5],
              [0, 1, 7, 2],
              [6, 2, 3, 1]])
assert np.array_equal(max_pool_2x2(x), [[4, 5], [6, 7]])
