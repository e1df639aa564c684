from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PushFrame(_message.Message):
    __slots__ = ("seq_id", "log_id", "service", "method", "headers", "payload_encoding", "payload_type", "payload")
    SEQ_ID_FIELD_NUMBER: _ClassVar[int]
    LOG_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_ENCODING_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_TYPE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    seq_id: int
    log_id: int
    service: int
    method: int
    headers: _containers.RepeatedCompositeFieldContainer[FrameHeader]
    payload_encoding: str
    payload_type: str
    payload: bytes
    def __init__(self, seq_id: _Optional[int] = ..., log_id: _Optional[int] = ..., service: _Optional[int] = ..., method: _Optional[int] = ..., headers: _Optional[_Iterable[_Union[FrameHeader, _Mapping]]] = ..., payload_encoding: _Optional[str] = ..., payload_type: _Optional[str] = ..., payload: _Optional[bytes] = ...) -> None: ...

class FrameHeader(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class Response(_message.Message):
    __slots__ = ("messages", "cursor", "fetch_interval", "now", "internal_ext", "fetch_type", "route_params", "heartbeat_duration", "need_ack", "push_server", "live_cursor", "history_no_more")
    class RouteParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    FETCH_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    INTERNAL_EXT_FIELD_NUMBER: _ClassVar[int]
    FETCH_TYPE_FIELD_NUMBER: _ClassVar[int]
    ROUTE_PARAMS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_DURATION_FIELD_NUMBER: _ClassVar[int]
    NEED_ACK_FIELD_NUMBER: _ClassVar[int]
    PUSH_SERVER_FIELD_NUMBER: _ClassVar[int]
    LIVE_CURSOR_FIELD_NUMBER: _ClassVar[int]
    HISTORY_NO_MORE_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    cursor: str
    fetch_interval: int
    now: int
    internal_ext: str
    fetch_type: int
    route_params: _containers.ScalarMap[str, str]
    heartbeat_duration: int
    need_ack: bool
    push_server: str
    live_cursor: str
    history_no_more: bool
    def __init__(self, messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ..., cursor: _Optional[str] = ..., fetch_interval: _Optional[int] = ..., now: _Optional[int] = ..., internal_ext: _Optional[str] = ..., fetch_type: _Optional[int] = ..., route_params: _Optional[_Mapping[str, str]] = ..., heartbeat_duration: _Optional[int] = ..., need_ack: _Optional[bool] = ..., push_server: _Optional[str] = ..., live_cursor: _Optional[str] = ..., history_no_more: _Optional[bool] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("method", "payload", "msg_id", "msg_type", "offset")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    MSG_TYPE_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    method: str
    payload: bytes
    msg_id: int
    msg_type: int
    offset: int
    def __init__(self, method: _Optional[str] = ..., payload: _Optional[bytes] = ..., msg_id: _Optional[int] = ..., msg_type: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class Common(_message.Message):
    __slots__ = ("method", "msg_id", "room_id", "create_time")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    ROOM_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    method: str
    msg_id: int
    room_id: int
    create_time: int
    def __init__(self, method: _Optional[str] = ..., msg_id: _Optional[int] = ..., room_id: _Optional[int] = ..., create_time: _Optional[int] = ...) -> None: ...

class PayGrade(_message.Message):
    __slots__ = ("level",)
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    level: int
    def __init__(self, level: _Optional[int] = ...) -> None: ...

class FansClubData(_message.Message):
    __slots__ = ("club_name", "level", "status", "anchor_id")
    CLUB_NAME_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_ID_FIELD_NUMBER: _ClassVar[int]
    club_name: str
    level: int
    status: int
    anchor_id: int
    def __init__(self, club_name: _Optional[str] = ..., level: _Optional[int] = ..., status: _Optional[int] = ..., anchor_id: _Optional[int] = ...) -> None: ...

class FansClub(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: FansClubData
    def __init__(self, data: _Optional[_Union[FansClubData, _Mapping]] = ...) -> None: ...

class User(_message.Message):
    __slots__ = ("id", "short_id", "nickname", "pay_grade", "fans_club", "display_id", "sec_uid", "id_str")
    ID_FIELD_NUMBER: _ClassVar[int]
    SHORT_ID_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    PAY_GRADE_FIELD_NUMBER: _ClassVar[int]
    FANS_CLUB_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_ID_FIELD_NUMBER: _ClassVar[int]
    SEC_UID_FIELD_NUMBER: _ClassVar[int]
    ID_STR_FIELD_NUMBER: _ClassVar[int]
    id: int
    short_id: int
    nickname: str
    pay_grade: PayGrade
    fans_club: FansClub
    display_id: str
    sec_uid: str
    id_str: str
    def __init__(self, id: _Optional[int] = ..., short_id: _Optional[int] = ..., nickname: _Optional[str] = ..., pay_grade: _Optional[_Union[PayGrade, _Mapping]] = ..., fans_club: _Optional[_Union[FansClub, _Mapping]] = ..., display_id: _Optional[str] = ..., sec_uid: _Optional[str] = ..., id_str: _Optional[str] = ...) -> None: ...

class ChatMessage(_message.Message):
    __slots__ = ("common", "user", "content", "event_time")
    COMMON_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    common: Common
    user: User
    content: str
    event_time: int
    def __init__(self, common: _Optional[_Union[Common, _Mapping]] = ..., user: _Optional[_Union[User, _Mapping]] = ..., content: _Optional[str] = ..., event_time: _Optional[int] = ...) -> None: ...

class GiftStruct(_message.Message):
    __slots__ = ("describe", "id", "combo", "diamond_count", "name")
    DESCRIBE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    COMBO_FIELD_NUMBER: _ClassVar[int]
    DIAMOND_COUNT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    describe: str
    id: int
    combo: bool
    diamond_count: int
    name: str
    def __init__(self, describe: _Optional[str] = ..., id: _Optional[int] = ..., combo: _Optional[bool] = ..., diamond_count: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class GiftMessage(_message.Message):
    __slots__ = ("common", "gift_id", "group_count", "repeat_count", "combo_count", "user", "to_user", "repeat_end", "group_id", "gift", "log_id", "total_count", "send_time", "trace_id")
    COMMON_FIELD_NUMBER: _ClassVar[int]
    GIFT_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_COUNT_FIELD_NUMBER: _ClassVar[int]
    REPEAT_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMBO_COUNT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    TO_USER_FIELD_NUMBER: _ClassVar[int]
    REPEAT_END_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    GIFT_FIELD_NUMBER: _ClassVar[int]
    LOG_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    SEND_TIME_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    common: Common
    gift_id: int
    group_count: int
    repeat_count: int
    combo_count: int
    user: User
    to_user: User
    repeat_end: int
    group_id: int
    gift: GiftStruct
    log_id: str
    total_count: int
    send_time: int
    trace_id: str
    def __init__(self, common: _Optional[_Union[Common, _Mapping]] = ..., gift_id: _Optional[int] = ..., group_count: _Optional[int] = ..., repeat_count: _Optional[int] = ..., combo_count: _Optional[int] = ..., user: _Optional[_Union[User, _Mapping]] = ..., to_user: _Optional[_Union[User, _Mapping]] = ..., repeat_end: _Optional[int] = ..., group_id: _Optional[int] = ..., gift: _Optional[_Union[GiftStruct, _Mapping]] = ..., log_id: _Optional[str] = ..., total_count: _Optional[int] = ..., send_time: _Optional[int] = ..., trace_id: _Optional[str] = ...) -> None: ...

class LikeMessage(_message.Message):
    __slots__ = ("common", "count", "total", "user")
    COMMON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    common: Common
    count: int
    total: int
    user: User
    def __init__(self, common: _Optional[_Union[Common, _Mapping]] = ..., count: _Optional[int] = ..., total: _Optional[int] = ..., user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class MemberMessage(_message.Message):
    __slots__ = ("common", "user", "member_count", "action")
    COMMON_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    common: Common
    user: User
    member_count: int
    action: int
    def __init__(self, common: _Optional[_Union[Common, _Mapping]] = ..., user: _Optional[_Union[User, _Mapping]] = ..., member_count: _Optional[int] = ..., action: _Optional[int] = ...) -> None: ...

class SocialMessage(_message.Message):
    __slots__ = ("common", "user", "share_type", "action", "share_target", "follow_count")
    COMMON_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    SHARE_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SHARE_TARGET_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_COUNT_FIELD_NUMBER: _ClassVar[int]
    common: Common
    user: User
    share_type: int
    action: int
    share_target: str
    follow_count: int
    def __init__(self, common: _Optional[_Union[Common, _Mapping]] = ..., user: _Optional[_Union[User, _Mapping]] = ..., share_type: _Optional[int] = ..., action: _Optional[int] = ..., share_target: _Optional[str] = ..., follow_count: _Optional[int] = ...) -> None: ...

class RoomUserSeqMessage(_message.Message):
    __slots__ = ("common", "total", "total_user", "total_user_str", "total_str")
    COMMON_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_USER_FIELD_NUMBER: _ClassVar[int]
    TOTAL_USER_STR_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STR_FIELD_NUMBER: _ClassVar[int]
    common: Common
    total: int
    total_user: int
    total_user_str: str
    total_str: str
    def __init__(self, common: _Optional[_Union[Common, _Mapping]] = ..., total: _Optional[int] = ..., total_user: _Optional[int] = ..., total_user_str: _Optional[str] = ..., total_str: _Optional[str] = ...) -> None: ...

class FansclubMessage(_message.Message):
    __slots__ = ("common", "type", "content", "user")
    COMMON_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    common: Common
    type: int
    content: str
    user: User
    def __init__(self, common: _Optional[_Union[Common, _Mapping]] = ..., type: _Optional[int] = ..., content: _Optional[str] = ..., user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class ControlMessage(_message.Message):
    __slots__ = ("common", "status")
    COMMON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    common: Common
    status: int
    def __init__(self, common: _Optional[_Union[Common, _Mapping]] = ..., status: _Optional[int] = ...) -> None: ...
