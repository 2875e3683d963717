"""Recurrent layers: RNN, LSTM and GRU over whole sequences, and their one-step cells.

PyTorch's conventions: input (T, N, I) (or (N, T, I) with batch_first, or unbatched (T, I));
parameters weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} (suffix ``_reverse`` for the
backward direction) with gates stacked in the order i, f, g, o (LSTM) and r, z, n (GRU); every
weight ~ U(-1/sqrt(H), 1/sqrt(H)); results ``output, h_n`` and, for LSTM, ``output, (h_n, c_n)``.

RNN and GRU compute each time step from per-step Tensors (one matmul per weight and step) rather
than by slicing one precomputed projection, whose backward would scatter a full (T, N, G) array per
step.  LSTM runs each layer as one fused sequence op with a hand-written backward (fused_lstm.py).
"""

from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd import Tensor

from .. import init
from ..module import Module, Parameter, as_input
from .dropout import dropout
from .fused_lstm import lstm_sequence
from .linear import linear

__all__ = ["rnn_cell", "lstm_cell", "gru_cell", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell",
           "GRUCell"]


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity: str = "tanh") -> Tensor:
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)"""
    pre = linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)
    return ag.tanh(pre) if nonlinearity == "tanh" else ag.relu(pre)


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None) -> tuple[Tensor, Tensor]:
    """i, f, g, o = s(.), s(.), tanh(.), s(.) of x W_ih^T + b_ih + h W_hh^T + b_hh;
    c' = f c + i g;  h' = o tanh(c')"""
    gates = linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)
    i, f, g, o = ag.split(gates, 4, axis=-1)
    c = ag.sigmoid(f) * c + ag.sigmoid(i) * ag.tanh(g)
    return ag.sigmoid(o) * ag.tanh(c), c


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None) -> Tensor:
    """r = s(x_r + h_r), z = s(x_z + h_z), n = tanh(x_n + r h_n);  h' = (1 - z) n + z h"""
    xr, xz, xn = ag.split(linear(x, w_ih, b_ih), 3, axis=-1)
    hr, hz, hn = ag.split(linear(h, w_hh, b_hh), 3, axis=-1)
    r = ag.sigmoid(xr + hr)
    z = ag.sigmoid(xz + hz)
    n = ag.tanh(xn + r * hn)
    return (1 - z) * n + z * h


_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


class _Recurrent(Module):
    """Shared parameter layout and sequence loop of RNN, LSTM and GRU."""

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype=np.float32) -> None:
        super().__init__()
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias = int(num_layers), bool(bias)
        self.batch_first, self.dropout = bool(batch_first), float(dropout)
        self.bidirectional = bool(bidirectional)
        if self.num_layers < 1 or self.hidden_size < 1:
            raise ValueError(f"{type(self).__name__}: num_layers and hidden_size must be >= 1")
        if not 0 <= self.dropout <= 1:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1], got {dropout}")
        self.dtype = np.dtype(dtype)
        directions = 2 if self.bidirectional else 1
        gates = _GATES[self.mode] * self.hidden_size
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else self.hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                names = self._names(layer, suffix)
                setattr(self, names[0], Parameter(np.empty((gates, width), dtype=dtype)))
                setattr(self, names[1], Parameter(np.empty((gates, self.hidden_size), dtype)))
                if self.bias:
                    setattr(self, names[2], Parameter(np.empty(gates, dtype=dtype)))
                    setattr(self, names[3], Parameter(np.empty(gates, dtype=dtype)))
        self.reset_parameters()

    @staticmethod
    def _names(layer: int, suffix: str) -> tuple[str, str, str, str]:
        return tuple(f"{kind}_l{layer}{suffix}"
                     for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _weights(self, layer: int, suffix: str) -> tuple:
        return tuple(getattr(self, n) if self.bias or i < 2 else None
                     for i, n in enumerate(self._names(layer, suffix)))

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def _step(self, x, state, weights):
        raise NotImplementedError

    def forward(self, input, hx=None):
        x = as_input(input, self.dtype)
        batched = x.ndim == 3
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            layout = "(N, T, {0})" if self.batch_first else "(T, N, {0})"
            raise ValueError(f"{type(self).__name__}(input_size={self.input_size}"
                             f"{', batch_first=True' if self.batch_first else ''}): expected an "
                             f"input {layout.format(self.input_size)} (or (T, {self.input_size})"
                             f"), got shape {x.shape}")
        if not batched:
            x = ag.expand_dims(x, 1)
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        steps, batch = x.shape[0], x.shape[1]
        states = self._initial_states(hx, batch, batched)
        directions = 2 if self.bidirectional else 1
        if self.mode == "LSTM":
            return self._lstm_layers(x, states, batched)
        sequence = [x[t] for t in range(steps)]
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                state = tuple(s[layer * directions + d] for s in states)
                order = range(steps) if d == 0 else range(steps - 1, -1, -1)
                out = [None] * steps
                for t in order:
                    state = self._step(sequence[t], state, self._weights(layer, suffix))
                    out[t] = state[0]
                outputs.append(out)
                finals.append(state)
            sequence = outputs[0] if directions == 1 else [
                ag.concatenate([a, b], axis=-1) for a, b in zip(*outputs)]
            if self.dropout and self.training and layer < self.num_layers - 1:
                sequence = [dropout(s, self.dropout, True) for s in sequence]
        return self._finish(ag.stack(sequence, axis=0), finals, batched)

    def _lstm_layers(self, x, states, batched: bool):
        """LSTM: each layer and direction as one fused sequence op (fused_lstm.py) over the
        whole (T, N, I) input instead of ~16 recorded ops per time step."""
        directions = 2 if self.bidirectional else 1
        sequence, finals = x, []
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                k = layer * directions + d
                inp = sequence if d == 0 else sequence[::-1]
                out, h, c = lstm_sequence(inp, states[0][k], states[1][k],
                                          *self._weights(layer, suffix))
                outputs.append(out if d == 0 else out[::-1])
                finals.append((h, c))
            sequence = outputs[0] if directions == 1 else ag.concatenate(outputs, axis=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                sequence = dropout(sequence, self.dropout, True)
        return self._finish(sequence, finals, batched)

    def _finish(self, output, finals, batched: bool):
        """output (T, N, D*H) and each layer/direction's final states, in PyTorch's layout."""
        if not batched:
            output = output.squeeze(1)
        elif self.batch_first:
            output = output.transpose(1, 0, 2)
        if len(finals) == 1:        # one layer, one direction: (1, N, H) without a stack node
            last = tuple(ag.expand_dims(s, 0) for s in finals[0])
        else:
            last = tuple(ag.stack([f[k] for f in finals], axis=0) for k in range(len(finals[0])))
        if not batched:
            last = tuple(s.squeeze(1) for s in last)
        return output, (last if self.mode == "LSTM" else last[0])

    def _initial_states(self, hx, batch: int, batched: bool) -> tuple:
        """Initial (h,) or (h, c), each (L * D, N, H); zeros when hx is None."""
        count = 2 if self.mode == "LSTM" else 1
        shape = (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)
        if hx is None:
            zeros = Tensor(np.zeros(shape, dtype=self.dtype))
            return (zeros,) * count
        parts = tuple(hx) if self.mode == "LSTM" else (hx,)
        if len(parts) != count:
            raise ValueError(f"{type(self).__name__}: hx must be (h_0, c_0) for an LSTM")
        states = []
        wanted = shape if batched else (shape[0], shape[2])
        for part in parts:
            part = as_input(part, self.dtype)
            if part.shape != wanted:
                raise ValueError(f"{type(self).__name__}: initial state of shape {part.shape} "
                                 f"does not match the expected {wanted}")
            states.append(part if batched else ag.expand_dims(part, 1))
        return tuple(states)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        for name in ("batch_first", "bidirectional"):
            if getattr(self, name):
                text += f", {name}=True"
        return text + (f", dropout={self.dropout}" if self.dropout else "")


class RNN(_Recurrent):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu."""

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, dtype=np.float32) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.__dict__["nonlinearity"] = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype)

    def _step(self, x, state, weights):
        return (rnn_cell(x, state[0], *weights, nonlinearity=self.nonlinearity),)


class LSTM(_Recurrent):
    """Long short-term memory; returns output, (h_n, c_n)."""

    mode = "LSTM"

    def _step(self, x, state, weights):
        return lstm_cell(x, state[0], state[1], *weights)


class GRU(_Recurrent):
    """Gated recurrent unit (gates r, z, n as PyTorch)."""

    mode = "GRU"

    def _step(self, x, state, weights):
        return (gru_cell(x, state[0], *weights),)


class _Cell(Module):
    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype=np.float32) -> None:
        super().__init__()
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.dtype = np.dtype(dtype)
        gates = _GATES[self.mode] * self.hidden_size
        self.weight_ih = Parameter(np.empty((gates, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((gates, self.hidden_size), dtype=dtype))
        self.bias_ih = Parameter(np.empty(gates, dtype=dtype)) if bias else None
        self.bias_hh = Parameter(np.empty(gates, dtype=dtype)) if bias else None
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def _inputs(self, x, h):
        x = as_input(x, self.dtype)
        if x.shape[-1] != self.input_size or x.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__}({self.input_size}, {self.hidden_size}): "
                             f"expected an input (N, {self.input_size}), got shape {x.shape}")
        if h is None:
            h = Tensor(np.zeros(x.shape[:-1] + (self.hidden_size,), dtype=self.dtype))
        return x, as_input(h, self.dtype)

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class RNNCell(_Cell):
    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", dtype=np.float32) -> None:
        super().__init__(input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, x, h=None) -> Tensor:
        x, h = self._inputs(x, h)
        return rnn_cell(x, h, *self._weights(), nonlinearity=self.nonlinearity)


class LSTMCell(_Cell):
    mode = "LSTM"

    def forward(self, x, hx=None) -> tuple[Tensor, Tensor]:
        h, c = (None, None) if hx is None else hx
        x, h = self._inputs(x, h)
        c = Tensor(np.zeros(h.shape, dtype=self.dtype)) if c is None else as_input(c, self.dtype)
        return lstm_cell(x, h, c, *self._weights())


class GRUCell(_Cell):
    mode = "GRU"

    def forward(self, x, h=None) -> Tensor:
        x, h = self._inputs(x, h)
        return gru_cell(x, h, *self._weights())
