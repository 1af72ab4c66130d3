# Checks for the code of card tf-idf-numpy (run after it, in the same interpreter).
docs = ["the cat sat on the mat", "the dog sat on the log", "the cat chased the dog"]
tfidf, V = tf_idf(docs)
assert tfidf.shape == (3, len(V)) and V == sorted(V)
assert np.allclose(tfidf[:, V.index("the")], 0)                 # in every document
assert np.isclose(tfidf[0, V.index("cat")], np.log(3 / 2))      # the worked example: 0.405
assert np.isclose(tfidf[0, V.index("mat")], np.log(3))          # 1.099
assert tfidf[1, V.index("mat")] == 0
