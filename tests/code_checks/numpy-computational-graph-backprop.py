# Checks for the code of card numpy-computational-graph-backprop (run after it, in the same interpreter).
assert (q, f) == (3.0, -12.0)
assert (df_dx, df_dy, df_dz) == (-4.0, -4.0, 3.0)
