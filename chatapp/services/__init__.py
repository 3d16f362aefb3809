"""Business logic: plain functions over the models, raising the API's domain errors."""
