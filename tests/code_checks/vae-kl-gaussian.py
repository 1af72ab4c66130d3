# Checks for the code of card vae-kl-gaussian (run after it, in the same interpreter).
mu, log_var = np.array([0.5, -1.0]), np.array([0.2, -0.5])
rng = np.random.default_rng(0)                     # Monte Carlo estimate of E_q[log q - log p]
eps = rng.standard_normal((200_000, 2))
z = mu + np.exp(0.5 * log_var) * eps
log_q = -0.5 * (eps ** 2 + log_var + np.log(2 * np.pi)).sum(axis=1)
log_p = -0.5 * (z ** 2 + np.log(2 * np.pi)).sum(axis=1)
assert np.isclose(kl_to_std_normal(mu, log_var), (log_q - log_p).mean(), atol=0.01)
assert kl_to_std_normal(np.zeros(2), np.zeros(2)) == 0.0
