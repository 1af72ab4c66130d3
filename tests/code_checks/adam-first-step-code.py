# Checks for the code of card adam-first-step-code (run after it, in the same interpreter).
theta = np.array([1.0, -2.0])
m = v = np.zeros(2)
g = np.array([0.001, 50.0])  # very different gradient scales
new, m, v = adam_step(theta, g, m, v, t=1)
# Bias correction: the first step has size ~lr in every coordinate, whatever the gradient's scale.
assert np.allclose(theta - new, 1e-3 * np.sign(g), rtol=1e-4)
assert np.allclose(m, 0.1 * g) and np.allclose(v, 0.001 * g**2)

# Second step, by hand for one coordinate: m = 0.9*0.1*g1 + 0.1*g2, v likewise, then corrected.
g2 = np.array([0.002, -50.0])
new2, m2, v2 = adam_step(new, g2, m, v, t=2)
m_hat = (0.9 * 0.1 * g + 0.1 * g2) / (1 - 0.9**2)
v_hat = (0.999 * 0.001 * g**2 + 0.001 * g2**2) / (1 - 0.999**2)
assert np.allclose(new - new2, 1e-3 * m_hat / (np.sqrt(v_hat) + 1e-8))

# It minimises f(x) = sum(x^2).
x = np.array([3.0, -4.0])
m = v = np.zeros(2)
for t in range(1, 3001):
    x, m, v = adam_step(x, 2 * x, m, v, t, lr=0.05)
assert np.abs(x).max() < 1e-2
