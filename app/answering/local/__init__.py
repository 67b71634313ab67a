"""`--answerer local`: a model newsrag installs (model.py), starts and stops (server.py runs serve.py in its own
process) and answers with through the `llm` chain (answerer.py). See docs/local-llm.md."""
