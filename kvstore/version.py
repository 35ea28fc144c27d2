"""The versions kvstore reports: its own, and the Redis it answers as (HELLO, INFO, scripts'
redis.REDIS_VERSION, RDB files), chosen so that clients enable their Redis 7 features."""

__version__ = "0.1.0"
REDIS_VERSION = "7.2.4"
