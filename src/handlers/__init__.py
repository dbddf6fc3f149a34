"""One module per API family; each exposes async handlers `(Call) -> Reply`."""
