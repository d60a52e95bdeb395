"""One kind of error for everything a person can act on."""


class Told(Exception):
    """An error whose `message` is meant for the person (resident or operator), in Chinese.

    The flow engine answers any `Told` raised by a step or a submit with its message and asks
    again, so flows need no translation between the errors of the services they call.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
