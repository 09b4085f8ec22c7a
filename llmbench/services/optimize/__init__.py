"""The cost optimizer's loop: candidates from a prompt's traffic (`candidates.py`), each tested
as an ordinary comparison run (`testing.py`), shipped as an audited label move or a canary route
and tracked against the saving projected when it shipped (`shipping.py`)."""
