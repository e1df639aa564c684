"""Douyin (抖音) live rooms: the webcast push codec, its message parser, recorder, replay and client."""
