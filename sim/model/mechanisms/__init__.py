"""One module per mechanism of the model (ODD 7): its formula functions, its compiled loop over
users and its daily ``step(model, today)``.

Each module declares ``SWITCH`` (the ``mechanisms.*`` switch that turns it off, None where it
always runs), ``PARAMS`` (the parameter sections it reads) and ``STATE`` (the user arrays it
owns); :data:`sim.model.schedule.SCHEDULE` runs the steps in the day's order (ODD 3).
"""
