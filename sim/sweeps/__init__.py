"""Running the model: experiment files, designs, one run (:func:`run`), the runner over any
executor, sweeps with resume, the results store and its manifest."""
