# Checks for the code of card numpy-iou-code (run after it, in the same interpreter).
a = np.array([0.0, 0.0, 4.0, 4.0])
b = np.array([2.0, 2.0, 6.0, 6.0])
assert np.isclose(iou(a, b), 1 / 7)  # the answer's example: 4 / (16 + 16 - 4)
assert np.isclose(iou(b, a), 1 / 7)  # symmetric
assert np.isclose(iou(a, a), 1.0)
assert iou(a, np.array([5.0, 5.0, 6.0, 6.0])) == 0  # disjoint
assert iou(a, np.array([4.0, 0.0, 8.0, 4.0])) == 0  # touching edges
assert iou(a, np.array([5.0, 0.0, 6.0, 4.0])) == 0  # overlapping in y only
assert np.isclose(iou(a, np.array([1.0, 1.0, 3.0, 3.0])), 4 / 16)  # contained
