#!/bin/sh
# One-off for the compose `sandbox` profile: a unit, five people (their API tokens are printed:
# `docker compose logs sandbox-seed`) and four targets whose platforms are the emulators of
# deploy/sandbox/serve.py (service `sandbox`). The credentials are the emulators' fixed fakes.
# Run once; a second run stops at "already exists" and changes nothing.
set -eu
sandbox=${CK_SANDBOX_HOST:-sandbox}

ck units add cq --name 重庆市人民政府办公厅 --org-code 008282882
for person in editor:editor reviewer1:reviewer reviewer2:reviewer signer:signer admin:admin; do
  name=${person%%:*}
  role=${person#*:}
  echo "$name ($role) token: $(ck users add "$name" --role "$role" --unit cq | tail -n 1)"
done
ck targets add cq-portal --channel portal --unit cq --name 重庆市人民政府网 \
  --config '{"columns": {"xxgk": "政府信息公开", "news": "要闻动态"}, "default_column": "news"}'
ck targets add cq-wechat --channel wechat --unit cq --name 重庆发布 \
  --config "{\"appid\": \"wxcqsandbox\", \"secret\": \"secret-cq\", \"api_base_url\": \"http://$sandbox:8101/cgi-bin/\"}"
ck targets add cq-weibo --channel weibo --unit cq --name 重庆发布微博 \
  --config "{\"access_token\": \"weibo-token-cq\", \"uid\": \"5671836977\", \"api_base_url\": \"http://$sandbox:8102/2/\"}"
ck targets add cq-app --channel appfeed --unit cq --name 重庆市政府App \
  --config "{\"webhook_url\": \"http://$sandbox:8103/hooks/app\", \"webhook_secret\": \"hook-secret-app\"}"
echo "sandbox seeded: sign in with a token above; emulators at http://$sandbox:8101 8102 8103 (/_sandbox/posts)"
