"""RNGStateHook: carry the random number generators' states through checkpoints."""
import random
from typing import Any, Dict

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.runner import Runner

CHECKPOINT_KEY = 'rng_state'


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save Python's, NumPy's and torch's global RNG states in checkpoints and restore them.

    mmengine's resume re-seeds the generators from the checkpoint's seed, so the random draws
    after a resume (RoI sampling, random augmentation in the main process) differ from the ones
    the uninterrupted run made. With this hook, a run killed and resumed with ``--resume`` makes
    exactly the draws of the uninterrupted run, and ends with the same weights when the data
    stream is deterministic (seeded sampler; no random augmentation in data workers).
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner: Runner, checkpoint: Dict[str, Any]) -> None:
        """Store the states under ``checkpoint['rng_state']``."""
        state = dict(python=random.getstate(), numpy=np.random.get_state(),
                     torch=torch.get_rng_state())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint[CHECKPOINT_KEY] = state

    def after_load_checkpoint(self, runner: Runner, checkpoint: Dict[str, Any]) -> None:
        """Restore the states when resuming (``load_from`` alone leaves them alone)."""
        state = checkpoint.get(CHECKPOINT_KEY)
        if state is None or not runner._resume:
            return
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])
