"""A small CNN on random 8x8 images: pad, conv2d, BatchNorm2D in training mode, ReLU, max-pool,
a linear classifier; three SGD steps, then the loss on the same batch after training.
"""

import numpy as np

from anet import Tensor, nn, optim

np.random.seed(0)


class SmallCNN(nn.Module):
    def __init__(self):
        self.conv = Tensor(np.random.randn(4, 1, 3, 3).astype(np.float32) * 0.5)
        self.bn = nn.BatchNorm2D(4, training=True, track_running_stats=True)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        x = x.pad2d(padding=(1, 1, 1, 1)).conv2d(self.conv)  # (N, 4, 8, 8)
        x = self.bn(x).relu().max_pool2d(kernel_size=(2, 2))  # (N, 4, 4, 4)
        return self.fc(x.flatten(1))


images = Tensor(np.random.randn(6, 1, 8, 8).astype(np.float32), requires_grad=False)
labels = np.array([0, 1, 2, 0, 1, 2])
model = SmallCNN()
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for step in range(3):
    opt.zero_grad()
    loss = nn.cross_entropy(model(images), labels)
    loss.backward()
    opt.step()
    print(f"step {step}  loss {loss.item():.4f}")

loss = nn.cross_entropy(model(images), labels)
print(f"after training: loss {loss.item():.4f}, running mean {model.bn.running_mean.data}")
