# Checks for the code of card numpy-nms-code (run after it, in the same interpreter).
boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float)
scores = np.array([0.9, 0.8, 0.7])
assert nms(boxes, scores) == [0, 2]  # box 1 overlaps box 0 with IoU 81/119
assert nms(boxes, scores, thresh=0.7) == [0, 1, 2]  # 0.68 is below a 0.7 threshold
assert nms(boxes, np.array([0.5, 0.8, 0.7])) == [1, 2]  # the higher-scoring box wins
assert nms(boxes[2:], scores[2:]) == [0]  # a single box is kept

# A chain: 1 suppresses 0 and 2, each of which overlaps it; 3 is far away.
chain = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [4, 0, 14, 10], [50, 50, 60, 60]], float)
assert nms(chain, np.array([0.8, 0.9, 0.7, 0.1])) == [1, 3]
# Suppression is by the kept box only: 0 and 2 overlap by 6/14 < 0.5, so with 1 scoring lowest
# both survive and 1 (IoU 8/12 with box 0) goes.
assert nms(chain, np.array([0.9, 0.1, 0.8, 0.7])) == [0, 2, 3]
