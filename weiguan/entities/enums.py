import enum


class PostType(str, enum.Enum):
    TEXT = 'text'
    IMAGE = 'image'
    VIDEO = 'video'


class VerifyCodeType(str, enum.Enum):
    REGISTER = 'register'
    LOGIN = 'login'
    MODIFY = 'modify'


class VerifyChannel(str, enum.Enum):
    MOBILE = 'mobile'
    EMAIL = 'email'


class MessageType(str, enum.Enum):
    NORMAL = 'normal'
    NOTIFY = 'notify'


class MessageLevel(str, enum.Enum):
    INFO = 'info'
    SUCCESS = 'success'
    WARNING = 'warning'
    ERROR = 'error'


class FileRegion(str, enum.Enum):
    LOCAL = 'local'
