"""The users domain's messages in zh-Hans, zh-Hant and en."""

from __future__ import annotations

from fangkong.core.messages import Catalogue, m

U = Catalogue("user", {
    "grant_outside": m("您不能授予辖区 {code}：它在您自己的辖区之外",
                       "您不能授予轄區 {code}：它在您自己的轄區之外",
                       "you may not grant jurisdiction {code}: it is outside your own"),
    "more_rights": m("您不能创建角色为 {role} 的用户：该角色有您没有的权限",
                     "您不能建立角色為 {role} 的使用者：該角色有您沒有的權限",
                     "you may not create a user of role {role}: it has rights you do not"),
    "exists": m("用户 {username} 已存在", "使用者 {username} 已存在", "user {username} already exists"),
    "session_ended": m("会话已结束（已退出、过期或被撤销）：请重新登录",
                       "工作階段已結束（已登出、過期或被撤銷）：請重新登入",
                       "session ended (signed out, expired or revoked): sign in again"),
    "disabled": m("账号已停用或已删除：请重新登录", "帳號已停用或已刪除：請重新登入",
                  "account disabled or removed: sign in again"),
    "acts_outside": m("用户 {username} 的辖区超出您的辖区：须由管理其全部辖区的管理员操作",
                      "使用者 {username} 的轄區超出您的轄區：須由管理其全部轄區的管理員操作",
                      "user {username} also acts outside your jurisdiction: an administrator of "
                      "all of theirs must do this"),
    "not_yourself": m("您不能停用自己：请让其他管理员操作", "您不能停用自己：請讓其他管理員操作",
                      "you may not disable yourself: ask another administrator"),
    "own_password": m("此方式只能修改您自己的密码", "此方式只能變更您自己的密碼",
                      "you may change only your own password this way"),
    "not_found": m("用户 {id} 不存在", "使用者 {id} 不存在", "user {id} not found"),
    "sign_in_first": m("请先登录：POST /api/v1/auth/token，然后发送“Authorization: Bearer <token>”",
                       "請先登入：POST /api/v1/auth/token，然後傳送「Authorization: Bearer <token>」",
                       "sign in first: POST /api/v1/auth/token, then send 'Authorization: "
                       "Bearer <token>'"),
    "wrong": m("用户名或密码错误", "使用者名稱或密碼錯誤", "wrong username or password"),
    "wrong_current": m("当前密码错误", "目前密碼錯誤", "the current password is wrong"),
    "locked": m("登录失败次数过多：请 {seconds} 秒后再试", "登入失敗次數過多：請 {seconds} 秒後再試",
                "too many failed sign-ins: try again in {seconds} s"),
    "refused": m("密码不可用：{why}", "密碼不可用：{why}", "password refused: {why}"),
    "too_short": m("只有 {length} 个字符；至少需要 {min} 个", "只有 {length} 個字元；至少需要 {min} 個",
                   "it has {length} characters; at least {min} are needed"),
    "one_character": m("是同一字符重复", "是同一字元重複", "it is one character repeated"),
    "contains_username": m("包含用户名", "包含使用者名稱", "it contains the username"),
    "common": m("是常见密码", "是常見密碼", "it is in a list of common passwords"),
    # the CLI
    "cli.created": m("已创建用户 {username}（{role}），辖区 {where}",
                     "已建立使用者 {username}（{role}），轄區 {where}",
                     "created {username} ({role}) in {where}"),
    "cli.enabled": m("已启用 {name}", "已啟用 {name}", "enabled {name}"),
    "cli.disabled": m("已停用 {name}；其会话已全部结束", "已停用 {name}；其工作階段已全部結束",
                      "disabled {name}; their sessions were ended"),
    "cli.password_set": m("已为 {name} 设置密码；其会话已全部结束", "已為 {name} 設定密碼；其工作階段已全部結束",
                          "password set for {name}; their sessions were ended"),
})
