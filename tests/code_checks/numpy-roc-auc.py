# Checks for the code of card numpy-roc-auc (run after it, in the same interpreter).
assert np.isclose(auc([0.9, 0.4, 0.6, 0.2, 0.1], [1, 1, 0, 0, 0]), 5 / 6)   # the roc-auc-example card
assert auc([0.5, 0.5], [1, 0]) == 0.5                                         # a tie counts one half
assert auc([1, 2, 3], [0, 1, 1]) == 1.0 and auc([1, 2, 3], [1, 0, 0]) == 0.0


def auc_trapezoid(scores, labels):
    """Independent version: area under the ROC curve traced threshold by threshold."""
    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    tpr, fpr = [0.0], [0.0]
    for threshold in sorted(set(scores), reverse=True):
        predicted = scores >= threshold
        tpr.append((predicted & labels).sum() / labels.sum())
        fpr.append((predicted & ~labels).sum() / (~labels).sum())
    return sum((fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2 for i in range(1, len(tpr)))


rng = np.random.default_rng(0)
for _ in range(50):
    labels = rng.random(40) < 0.3
    labels[:2] = [True, False]
    scores = np.round(rng.random(40) + 0.3 * labels, 1)      # rounding makes ties
    assert np.isclose(auc(scores, labels), auc_trapezoid(scores, labels))
    assert np.isclose(auc(np.exp(3 * scores), labels), auc(scores, labels))  # only the ranking matters
