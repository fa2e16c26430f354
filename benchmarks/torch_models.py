"""The benchmark models in plain PyTorch (eager): the same layers, widths, loss and
optimizer as the aelab side of each comparison, written the way a PyTorch user would.

Padding conventions differ in detail (PyTorch pads stride-2 convs symmetrically, XLA's
'SAME' pads after), which changes no layer's size or cost.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x | logits) summed over data dimensions: [b, ...] -> [b]."""
    per_dim = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return per_dim.flatten(1).sum(1)


def gaussian_kl(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(log_var)) || N(0, I)) per example: [b, d] -> [b]."""
    return 0.5 * (log_var.exp() + mean**2 - 1.0 - log_var).sum(1)


class MlpVae(nn.Module):
    """784-hidden-latent VAE with a Bernoulli decoder; `loss(x)` is the negative ELBO."""

    def __init__(self, input_dim: int = 784, hidden: int = 400, latent: int = 20):
        super().__init__()
        self.latent = latent
        self.encoder = nn.Sequential(
            nn.Linear(input_dim, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent)
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, input_dim)
        )

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        return (bernoulli_nll(self.decoder(z), x) + gaussian_kl(mean, log_var)).mean()


class ConvAe(nn.Module):
    """Two stride-2 3x3 convs (32, 64 channels), a 32-d code, mirrored stride-2 transposed
    convs and a 3x3 output conv; Bernoulli reconstruction loss. Images [b, 1, 28, 28]."""

    def __init__(self, channels=(32, 64), latent: int = 32):
        super().__init__()
        c1, c2 = channels
        self.conv1, self.conv2 = nn.Conv2d(1, c1, 3, 2, 1), nn.Conv2d(c1, c2, 3, 2, 1)
        self.to_code = nn.Linear(7 * 7 * c2, latent)
        self.from_code = nn.Linear(latent, 7 * 7 * c2)
        self.up1 = nn.ConvTranspose2d(c2, c1, 3, 2, 1, output_padding=1)
        self.up2 = nn.ConvTranspose2d(c1, c1, 3, 2, 1, output_padding=1)
        self.out = nn.Conv2d(c1, 1, 3, 1, 1)
        self.c2 = c2

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        z = self.to_code(h.flatten(1))
        h = F.relu(self.from_code(z)).view(-1, self.c2, 7, 7)
        logits = self.out(F.relu(self.up2(F.relu(self.up1(h)))))
        return bernoulli_nll(logits, x).mean()


class ResidualBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(F.relu(x))))


class ResidualVae(nn.Module):
    """Encoder: per stage a stride-2 conv and a residual block (32, 64 channels); decoder
    mirrored with stride-2 transposed convs; Gaussian posterior, Bernoulli decoder."""

    def __init__(self, channels=(32, 64), latent: int = 32):
        super().__init__()
        c1, c2 = channels
        self.latent, self.c2 = latent, c2
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, 2, 1),
            ResidualBlock(c1),
            nn.Conv2d(c1, c2, 3, 2, 1),
            ResidualBlock(c2),
        )
        self.to_code = nn.Linear(7 * 7 * c2, 2 * latent)
        self.from_code = nn.Linear(latent, 7 * 7 * c2)
        self.decoder = nn.Sequential(
            ResidualBlock(c2),
            nn.ConvTranspose2d(c2, c1, 3, 2, 1, output_padding=1),
            ResidualBlock(c1),
            nn.ConvTranspose2d(c1, c1, 3, 2, 1, output_padding=1),
            nn.ReLU(),
            nn.Conv2d(c1, 1, 3, 1, 1),
        )

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.encoder(x)).flatten(1)
        mean, log_var = self.to_code(h).chunk(2, dim=1)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        logits = self.decoder(self.from_code(z).view(-1, self.c2, 7, 7))
        return (bernoulli_nll(logits, x) + gaussian_kl(mean, log_var)).mean()


class LstmAe(nn.Module):
    """An LSTM encoder (last output -> code) and an LSTM decoder fed the code at every
    step; summed squared error. Series [b, T, C]."""

    def __init__(self, channels: int = 1, hidden: int = 64, latent: int = 16):
        super().__init__()
        self.encoder = nn.LSTM(channels, hidden, batch_first=True)
        self.to_code = nn.Linear(hidden, latent)
        self.decoder = nn.LSTM(latent, hidden, batch_first=True)
        self.out = nn.Linear(hidden, channels)

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.encoder(x)
        z = self.to_code(outputs[:, -1])
        steps = z[:, None, :].expand(-1, x.shape[1], -1)
        decoded, _ = self.decoder(steps)
        return ((self.out(decoded) - x) ** 2).flatten(1).sum(1).mean()
