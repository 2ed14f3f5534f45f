"""Measured quality of the NLU model and the frustration detector (`make eval`).

`python -m bot.evaluation` trains NLU-only models on parts of `data/nlu`, parses the
examples they did not see, and scores the predictions against the project's targets;
it also scores `bot.sentiment`'s frustration flag on the hand-labelled test set under
`evaluation/frustration/`, beside its leave-one-writer-out cross-validation. Nothing
here runs at import time: Rasa and TensorFlow are imported only by the functions that
train and load models.
"""
