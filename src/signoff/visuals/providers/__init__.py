"""Image providers behind one narrow port (``port.py``): the builtin compositor and OpenAI."""
