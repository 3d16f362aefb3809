"""Request and response shapes (pydantic), shared by validation and the OpenAPI document."""
