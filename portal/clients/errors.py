"""An action on accounts that cannot be done; the message is for the user."""


class AccessError(Exception):
    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message
