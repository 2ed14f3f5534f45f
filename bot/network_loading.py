"""Load the trained networks (DIET, the response selectors, TED) in a third of Rasa's time.

Rasa 3.6 builds each network's variables before reading its weights by training it
for one step on one example (`RasaModel.load`), and compiles that step as a
TensorFlow graph first: tracing the training graphs of four networks was about 35 of
the 52 seconds our model took to load (docs/benchmarks.md, issue 20), on every
server start, conversation test run and evaluation. The step's result is thrown
away (the weights are read over it), so `build_networks_eagerly` has it run
eagerly, without a graph, and then compiles the network as Rasa's configuration
says (`run_eagerly`), so every prediction runs exactly as before: the same
variables, the same weights, the same graph for inference.

Fine-tuning (`rasa train --finetune`) keeps Rasa's own load: it goes on training the
network it loads.
"""

from __future__ import annotations

import inspect
from typing import Any

# Rasa's own load, kept to delegate to (fine-tuning) and to restore.
_RASA_LOAD_ATTRIBUTE = "_baton_rasa_load"


def build_networks_eagerly() -> None:
    """Make every later load of a Rasa network in this process build it eagerly.

    Idempotent; call it before the model is loaded (the Rasa server, the
    evaluation, `python -m bot.rasa_cli`).
    """
    from rasa.utils.tensorflow.models import RasaModel

    if hasattr(RasaModel, _RASA_LOAD_ATTRIBUTE):
        return
    # The classmethod itself, not RasaModel.load: bound later to the network's own class.
    setattr(RasaModel, _RASA_LOAD_ATTRIBUTE, RasaModel.__dict__["load"])
    # Rasa has no hook for this: its classmethod is replaced by ours for the process.
    RasaModel.load = classmethod(_load_built_eagerly)


def _load_built_eagerly(
    cls: Any,
    model_file_name: str,
    model_data_example: Any,
    predict_data_example: Any | None = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """`RasaModel.load` (rasa/utils/tensorflow/models.py) with its one training step eager."""
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator

    if finetune_mode:
        rasa_load = inspect.getattr_static(cls, _RASA_LOAD_ATTRIBUTE).__get__(None, cls)
        return rasa_load(
            model_file_name,
            model_data_example,
            predict_data_example,
            finetune_mode,
            *args,
            **kwargs,
        )
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    learning_rate = config.get(LEARNING_RATE, 0.001)
    # One step on one example creates the variables with their trained shapes.
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), run_eagerly=True)
    model.fit(RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
    model.load_weights(model_file_name)
    # Predictions run as configured (a traced graph unless `run_eagerly`), as in Rasa's load.
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate), run_eagerly=config.get(RUN_EAGERLY)
    )
    if predict_data_example:
        # Traces the prediction graph now rather than on the first message, as Rasa does.
        model.run_inference(predict_data_example)
    return model
