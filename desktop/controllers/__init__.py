"""The controllers: one per concern, each turning the window's intents into API jobs."""

from desktop.controllers.admin import AdminController
from desktop.controllers.branches import BranchController
from desktop.controllers.chat_session import ChatSessionController
from desktop.controllers.connection import ConnectionController
from desktop.controllers.prompt_library import PromptLibraryController
from desktop.controllers.usage import UsageController

__all__ = [
    "AdminController",
    "BranchController",
    "ChatSessionController",
    "ConnectionController",
    "PromptLibraryController",
    "UsageController",
]
