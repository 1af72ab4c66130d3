# Checks for the code of card numpy-early-stopping-logic (run after it, in the same interpreter).
losses = [1.0, 0.8, 0.7, 0.72, 0.71, 0.75, 0.69, 0.9]
assert early_stop_epoch(losses, patience=2) == 4      # best at epoch 2, then 3 and 4 no better
assert early_stop_epoch(losses, patience=4) == 7      # epoch 6 improves; the run ends
assert early_stop_epoch([1.0, 0.9, 0.8], patience=1) == 2
