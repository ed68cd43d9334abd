"""The softmax model's functions under their original name (callers that
predate ``models/``); every worker model lives in ``models/``."""

from .models.softmax import flops_per_sample, initial_parameters, loss, loss_and_gradient, parameter_count

__all__ = ["parameter_count", "initial_parameters", "loss_and_gradient", "loss", "flops_per_sample"]
