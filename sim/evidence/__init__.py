"""The model against published studies: each study run as an in-silico version of its design
(validation), and the calibration of free parameters to their findings."""
