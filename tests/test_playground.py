"""The Playground sets are learnable: a small tanh network trained with nn.fit on the lecture's
regularised cross-entropy reaches the stated test accuracy within a stated step budget.

Budget (full batch, so one step per epoch): Adam lr 0.03, 300 steps for circle and XOR, 150 for the
two Gaussians, 1500 for the spiral; 400 points, half held out; network 2-8-8-1 (2-16-16-1 for the
spiral); cost BCE + lambda/(2n) sum w^2 with lambda 0.03.
"""

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from nn.data import DataLoader, PLAYGROUND, train_test_split

CASES = [  # name, noise, hidden, steps, required test accuracy
    ("circle", 0.02, 8, 300, 0.97),
    ("xor", 0.05, 8, 300, 0.97),
    ("gaussians", 0.05, 8, 150, 0.97),
    ("spiral", 0.05, 16, 1500, 0.90),
]


@pytest.mark.parametrize("name, noise, hidden, steps, required", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_playground_set_is_learned(name, noise, hidden, steps, required, seed):
    X, y = PLAYGROUND[name](400, noise=noise, seed=seed)
    y = y.astype(np.float32)[:, None]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, seed=seed)
    ag.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                          nn.Linear(hidden, 1), nn.Sigmoid())
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    lam, n = 0.03, len(X_train)

    def cost(output, target):
        return F.binary_cross_entropy(output, target) + (lam / n) * F.l2_penalty(weights)

    history = nn.fit(model, cost, nn.optim.Adam(model.parameters(), lr=0.03),
                     DataLoader(X_train, y_train, batch_size=n, shuffle=False), epochs=steps,
                     val_data=[(X_test, y_test)], metrics=["binary_accuracy"], progress=False)
    assert len(history["loss"]) == steps
    assert history["loss"][-1] < history["loss"][0]
    reached = history["val_binary_accuracy"][-1]
    assert reached >= required, (name, seed, reached)
