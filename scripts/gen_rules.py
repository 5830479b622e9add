#!/usr/bin/env python3
"""Generates detectors/secrets/*.toml and detectors/pii/*.toml from the tables below.

Why a generator: 150+ rules each need a positive example and a negative example with realistic,
*random* values (never copied from other scanners or from the evaluation corpus). The values are
made up here from each vendor's documented format, with a fixed seed so the output is
reproducible, and with real check digits where the format has one. Run:

    python3 scripts/gen_rules.py && cargo test --lib detect

The TOML files are the source of truth at run time; edit this script and regenerate rather than
editing the generated files by hand.
"""
import base64, hashlib, json, os, random, string, zlib

R = random.Random(20261122)
ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"
B32 = string.ascii_uppercase + "234567"


def rnd(n, alpha=ALNUM):
    return "".join(R.choice(alpha) for _ in range(n))


def h(n):
    return rnd(n, HEX)


def uuid():
    return f"{h(8)}-{h(4)}-4{h(3)}-a{h(3)}-{h(12)}"


def b62(n):
    a = string.digits + string.ascii_uppercase + string.ascii_lowercase
    out = ""
    for _ in range(6):
        out = a[n % 62] + out
        n //= 62
    return out


def github(prefix):
    body = rnd(30)
    return f"{prefix}_{body}{b62(zlib.crc32(body.encode()))}"


def b64u(s):
    return base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")


FILES = {}


def rule(file, id, name, label, keywords, pattern, examples, negatives, **kw):
    r = dict(id=id, name=name, label=label, severity=kw.pop("severity", "high"), action="redact")
    r["keywords"] = keywords
    r["pattern"] = pattern
    r.update(kw)
    r["examples"] = examples
    r["negative_examples"] = negatives
    FILES.setdefault(file, []).append(r)


def prefixed(file, slug, name, label, keyword, pattern, value, negative=None, **kw):
    """A token with a fixed vendor prefix: the prefix is the keyword."""
    kws = keyword if isinstance(keyword, list) else [keyword]
    neg = negative if negative is not None else [f"{kws[0]}short", "see the docs for how to create a token"]
    if isinstance(neg, str):
        neg = [neg]
    rule(file, f"secret.{file}.{slug}", name, label, kws, pattern, [f"token = {value}" if kw.pop("assign", True) else value], neg, **kw)


def ctx(file, slug, name, label, keywords, key_re, value_re, value, key_text, min_entropy=None, **kw):
    """A value without a prefix, recognised by the name it is assigned to."""
    pattern = (
        r"(?i)" + key_re + r"""[A-Za-z0-9_.\-]{0,24}["']?\s*(?:[:=]{1,2}|=>|,|\s)\s*["']?(?P<value>"""
        + value_re + r""")(?:[^A-Za-z0-9_\-+/=.]|$)"""
    )
    if min_entropy is not None:
        kw["min_entropy"] = min_entropy
    neg = kw.pop("negatives", [f"{key_text} = ${{{label.upper()}}}", f"{key_text}: {'x' * 8}"])
    rule(file, f"secret.{file}.{slug}", name, label, keywords, pattern, [f'{key_text} = "{value}"'], neg, **kw)


B = r"(?:^|[^A-Za-z0-9_\-])"  # left boundary that also rejects a joined identifier
E = r"(?:[^A-Za-z0-9_\-]|$)"  # right boundary

# ---------------------------------------------------------------- cloud providers
aws_secret = rnd(40, B64)
rule("aws", "secret.aws.access_key_id", "AWS access key ID", "aws_access_key_id",
     ["AKIA", "ASIA", "ABIA", "ACCA", "A3T"],
     r"\b(?P<value>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
     [f"aws_access_key_id = AKIA{rnd(16, B32)}"],
     ["aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAZZZZZZZZZZZZZZZZ"], min_entropy=2.5,
     references=["https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html"])
rule("aws", "secret.aws.secret_access_key", "AWS secret access key", "aws_secret_access_key",
     ["secret_access_key", "secretaccesskey", "aws_secret", "secret_key", "aws_sk"],
     r"""(?i)(?:aws_?secret_?(?:access_?)?key|secret_?access_?key|aws_?sk|aws[A-Za-z0-9_.\-]{0,20}secret_?key)["']?\s*(?:[:=]{1,2}|=>|,)\s*["']?(?P<value>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)""",
     [f"aws_secret_access_key = {aws_secret}", f'"SecretAccessKey": "{rnd(40, B64)}"'],
     ["aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      "aws_secret_access_key = " + "a" * 40, f"aws_secret_access_key = {h(40)}"],
     min_entropy=4.2, description="No prefix: the name it is assigned to plus an entropy gate.")
rule("aws", "secret.aws.secret_access_key_near", "AWS secret access key near an AWS key id", "aws_secret_access_key",
     ["AKIA", "ASIA"],
     r"""(?:^|[^A-Za-z0-9/+])(?P<value>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)""",
     [f"AKIA{rnd(16, B32)}:{rnd(40, B64)}"], [f"AKIA{rnd(16, B32)} {h(40)}"],
     min_entropy=4.3, context=r"(?:AKIA|ASIA)[A-Z2-7]{16}", context_window=80)
rule("aws", "secret.aws.session_token", "AWS session token", "aws_session_token",
     ["session_token", "sessiontoken", "security_token"],
     r"""(?i)(?:aws_?session_?token|aws_?security_?token|SessionToken)["']?\s*(?:[:=]{1,2}|=>)\s*["']?(?P<value>[A-Za-z0-9/+=]{100,1200})""",
     [f"aws_session_token = IQoJb3JpZ2luX2Vj{rnd(200, B64)}"], ["aws_session_token = ${AWS_SESSION_TOKEN}"],
     min_entropy=4.5)
rule("aws", "secret.aws.mws_auth_token", "Amazon MWS auth token", "amazon_mws_auth_token", ["amzn.mws."],
     r"\b(?P<value>amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b",
     [f"mws_token: amzn.mws.{uuid()}"], ["amzn.mws.short"])
rule("aws", "secret.aws.appsync_api_key", "AWS AppSync API key", "aws_appsync_api_key", ["da2-"],
     r"\b(?P<value>da2-[a-z0-9]{26})\b", [f"appsync key da2-{rnd(26, LOWER_ALNUM)}"], ["da2-short"],
     min_entropy=3.5)

prefixed("gcp", "api_key", "Google API key", "google_api_key", "AIza", r"\b(?P<value>AIza[0-9A-Za-z_\-]{35})" + E,
         f"AIza{rnd(35, URLSAFE)}", ["AIzaShort", "AIza" + "0" * 35])
rule("gcp", "secret.gcp.service_account_private_key_id", "GCP service-account key id", "gcp_private_key_id",
     ["private_key_id"], r""""private_key_id"\s*:\s*"(?P<value>[0-9a-f]{40})\"""",
     ['{"type": "service_account", "private_key_id": "' + h(40) + '"}'],
     ['{"private_key_id": "' + "0" * 40 + '"}'], min_entropy=3.0)
prefixed("gcp", "oauth_client_secret", "Google OAuth client secret", "google_oauth_client_secret", "GOCSPX-",
         r"\b(?P<value>GOCSPX-[A-Za-z0-9_\-]{28})" + E, f"GOCSPX-{rnd(28, URLSAFE)}")
prefixed("gcp", "oauth_access_token", "Google OAuth access token", "google_oauth_access_token", "ya29.",
         r"\b(?P<value>ya29\.[0-9A-Za-z_\-]{30,512})", f"ya29.a0{rnd(120, URLSAFE)}", min_entropy=4.0)
prefixed("gcp", "oauth_refresh_token", "Google OAuth refresh token", "google_oauth_refresh_token", "1//0",
         r"(?:^|[^A-Za-z0-9/])(?P<value>1//0[A-Za-z0-9_\-]{40,200})", f"1//0{rnd(99, URLSAFE)}", min_entropy=4.0)

rule("azure", "secret.azure.storage_account_key", "Azure storage account key", "azure_storage_key",
     ["AccountKey=", "SharedAccessKey="],
     r"(?i)(?:AccountKey|SharedAccessKey)=(?P<value>[A-Za-z0-9+/]{40,86}={0,2})",
     [f"DefaultEndpointsProtocol=https;AccountName=store1;AccountKey={rnd(86, B64)}==;EndpointSuffix=core.windows.net"],
     ["AccountKey=<storage-key>", "AccountKey=" + "A" * 86 + "=="], min_entropy=4.2)
rule("azure", "secret.azure.sas_token", "Azure SAS token signature", "azure_sas_token", ["sig="],
     r"[?&;]sig=(?P<value>[A-Za-z0-9%+/]{40,100}(?:%3D|=)?)",
     [f"https://acct.blob.core.windows.net/c/f.txt?sv=2022-11-02&se=2030-01-01&sp=r&sig={rnd(43, ALNUM)}%3D"],
     ["?sig=abc", "use the sig= parameter"], min_entropy=4.0, context=r"(?:sv|se|sp|spr|srt|ss)=", context_window=200)
rule("azure", "secret.azure.ad_client_secret", "Azure AD client secret", "azure_client_secret", ["Q~"],
     r"(?:^|[^A-Za-z0-9_~.\-])(?P<value>[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$)",
     [f"client_secret = {rnd(3)}8Q~{rnd(34, ALNUM)}"], ["Q~ and more"], min_entropy=4.0)
rule("azure", "secret.azure.app_configuration_connection_string", "Azure App Configuration connection string",
     "azure_app_configuration_connection_string", [".azconfig.io"],
     r"(?:Endpoint=)?https://[A-Za-z0-9\-]+\.azconfig\.io;Id=[^;\s]{4,40};Secret=(?P<value>[A-Za-z0-9+/]{40,60}={0,2})",
     [f"Endpoint=https://cfg-app.azconfig.io;Id={rnd(4)}-l0-s0:{rnd(20)};Secret={rnd(43, B64)}="],
     ["Endpoint=https://cfg-app.azconfig.io;Id=x;Secret=<secret>"], min_entropy=4.0)
ctx("azure", "devops_pat", "Azure DevOps personal access token", "azure_devops_pat",
    ["azure", "devops", "ado_", "_ado", "vsts"], r"(?:azure|devops|ado|vsts)[A-Za-z0-9_.\-]{0,20}(?:pat|token|key)",
    r"[a-z2-7]{52}", rnd(52, string.ascii_lowercase + "234567"), "AZURE_DEVOPS_PAT", min_entropy=4.0)

# ---------------------------------------------------------------- VCS and CI
for p, what in [("ghp", "personal access token"), ("gho", "OAuth access token"), ("ghu", "user-to-server token"),
                ("ghs", "server-to-server token"), ("ghr", "refresh token")]:
    tok = github(p)
    bad = tok[:-1] + ("A" if tok[-1] != "A" else "B")
    rule("github", f"secret.github.{p}", f"GitHub {what}", "github_token", [f"{p}_"],
         rf"\b(?P<value>{p}_[A-Za-z0-9]{{36}})\b", [f"GITHUB_TOKEN={tok}"], [f"GITHUB_TOKEN={bad}", f"{p}_short"],
         validator="github_crc32", confidence=0.99,
         description="The last six base62 characters are the CRC32 of the 30 random ones.",
         references=["https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/"])
rule("github", "secret.github.classic_unverified", "GitHub token (checksum not verified)", "github_token",
     ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], r"\b(?P<value>gh[pousr]_[A-Za-z0-9]{36})\b",
     [f"GITHUB_TOKEN=ghp_{rnd(36)}"], [github("ghp"), "ghp_short"], validator="github_unverified", min_entropy=4.0,
     confidence=0.6, description="Right shape but the CRC32 does not match: still reported, with lower confidence.")
prefixed("github", "fine_grained_pat", "GitHub fine-grained PAT", "github_fine_grained_pat", "github_pat_",
         r"\b(?P<value>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b", f"github_pat_{rnd(22)}_{rnd(59)}")
ctx("github", "oauth_client_secret", "GitHub OAuth app client secret", "github_client_secret", ["github"],
    r"github[A-Za-z0-9_.\-]{0,20}(?:client_?)?secret", r"[0-9a-f]{40}", h(40), "GITHUB_CLIENT_SECRET", min_entropy=3.2)
# Lengths: GitLab documents the prefixes, not fixed lengths, and has lengthened tokens before
# (20 random characters today, longer routable tokens since 17.x), so token families accept
# 20-50; the incoming-mail token is a fixed 25-character base36 string and the OAuth secret 64.
for slug, pfx, n, name in [("pat", "glpat-", "20,50", "personal access token"), ("deploy_token", "gldt-", "20,50", "deploy token"),
                           ("runner_token", "glrt-", "20,50", "runner authentication token"),
                           ("ci_job_token", "glcbt-", "20,64", "CI job token"), ("oauth_secret", "gloas-", "64", "OAuth application secret"),
                           ("feed_token", "glft-", "20,50", "feed token"), ("mail_token", "glimt-", "25", "incoming mail token"),
                           ("scim_token", "glsoat-", "20,50", "SCIM token"), ("agent_token", "glagent-", "50,256", "Kubernetes agent token"),
                           ("ffclient_token", "glffct-", "20,50", "feature-flag client token")]:
    lo = int(n.split(",")[0])
    prefixed("gitlab", slug, f"GitLab {name}", f"gitlab_{slug}", pfx,
             rf"\b(?P<value>{pfx}(?:[0-9a-z]{{1,2}}_)?[A-Za-z0-9_\-]{{{n}}})" + E, f"{pfx}{rnd(lo, ALNUM)}", min_entropy=3.0)
prefixed("gitlab", "pipeline_trigger_token", "GitLab pipeline trigger token", "gitlab_pipeline_trigger_token", "glptt-",
         r"\b(?P<value>glptt-[A-Za-z0-9_\-]{40})" + E, f"glptt-{h(40)}")
prefixed("gitlab", "runner_registration_token", "GitLab runner registration token", "gitlab_runner_registration_token",
         "GR1348941", r"\b(?P<value>GR1348941[A-Za-z0-9_\-]{20,50})" + E, f"GR1348941{rnd(20, URLSAFE)}")
prefixed("atlassian", "api_token", "Atlassian API token", "atlassian_api_token", "ATATT3",
         r"\b(?P<value>ATATT3[A-Za-z0-9_\-=]{180,200})" + E, f"ATATT3xFfGF0{rnd(180, URLSAFE)}={h(8).upper()}")
prefixed("atlassian", "bitbucket_app_password", "Bitbucket app password", "bitbucket_app_password", "ATBB",
         r"\b(?P<value>ATBB[A-Za-z0-9_=.\-]{28}[A-F0-9]{8})\b", f"ATBB{rnd(28)}{h(8).upper()}")
ctx("atlassian", "legacy_api_token", "Atlassian legacy API token", "atlassian_api_token", ["atlassian", "jira", "confluence"],
    r"(?:atlassian|jira|confluence)[A-Za-z0-9_.\-]{0,20}(?:token|api_?key)", r"[A-Za-z0-9]{24}", rnd(24), "JIRA_API_TOKEN",
    min_entropy=3.8)
prefixed("ci", "circleci_pat", "CircleCI personal token", "circleci_token", ["CCIPAT_", "CCIPRJ_"],
         r"\b(?P<value>CCIP(?:AT|RJ)_[A-Za-z0-9]{22}_[0-9a-f]{40})\b", f"CCIPAT_{rnd(22)}_{h(40)}")
ctx("ci", "circleci_legacy", "CircleCI API token", "circleci_token", ["circle"],
    r"circle(?:ci)?[A-Za-z0-9_.\-]{0,20}token", r"[0-9a-f]{40}", h(40), "CIRCLECI_TOKEN", min_entropy=3.2)
prefixed("ci", "buildkite", "Buildkite agent/API token", "buildkite_token", "bkua_",
         r"\b(?P<value>bkua_[a-z0-9]{40})\b", f"bkua_{rnd(40, LOWER_ALNUM)}")
prefixed("ci", "sourcegraph", "Sourcegraph access token", "sourcegraph_access_token", "sgp_",
         r"\b(?P<value>sgp_(?:[0-9a-f]{16}_|local_)?[0-9a-f]{40})\b", f"sgp_{h(16)}_{h(40)}")
prefixed("ci", "sonarqube", "SonarQube token", "sonarqube_token", ["squ_", "sqp_", "sqa_"],
         r"\b(?P<value>sq[upa]_[0-9a-f]{40})\b", f"squ_{h(40)}")
prefixed("ci", "terraform_cloud", "Terraform Cloud token", "terraform_token", ".atlasv1.",
         r"\b(?P<value>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-=]{60,70})" + E, f"{rnd(14)}.atlasv1.{rnd(67, URLSAFE)}")
prefixed("ci", "vault_service_token", "HashiCorp Vault token", "vault_token", ["hvs.", "hvb.", "hvr."],
         r"\b(?P<value>hv[sbr]\.[A-Za-z0-9_\-]{90,400})" + E, f"hvs.CAESI{rnd(90, URLSAFE)}", min_entropy=4.0)
ctx("ci", "vault_legacy_token", "HashiCorp Vault legacy token", "vault_token", ["vault"],
    r"vault[A-Za-z0-9_.\-]{0,20}token", r"[sbr]\.[A-Za-z0-9_\-]{24,120}", "s." + rnd(24), "VAULT_TOKEN", min_entropy=3.5)
prefixed("ci", "doppler", "Doppler token", "doppler_token", ["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."],
         r"\b(?P<value>dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_\-]{2,35}\.)?[A-Za-z0-9]{40,44})\b", f"dp.st.prd.{rnd(43)}")
prefixed("ci", "pulumi", "Pulumi access token", "pulumi_token", "pul-", r"\b(?P<value>pul-[0-9a-f]{40})\b", f"pul-{h(40)}")
prefixed("ci", "flyio", "Fly.io token", "flyio_token", ["fo1_", "FlyV1 fm"],
         r"(?P<value>(?:fo1_[A-Za-z0-9_\-]{43}|FlyV1 fm\d_[A-Za-z0-9+/=_\-]{100,}))", f"fo1_{rnd(43, URLSAFE)}")
prefixed("ci", "digitalocean", "DigitalOcean token", "digitalocean_token", ["dop_v1_", "doo_v1_", "dor_v1_"],
         r"\b(?P<value>do[opr]_v1_[0-9a-f]{64})\b", f"dop_v1_{h(64)}")
prefixed("ci", "databricks", "Databricks access token", "databricks_token", "dapi",
         r"\b(?P<value>dapi[0-9a-f]{32}(?:-\d)?)\b", f"dapi{h(32)}", min_entropy=3.2)
prefixed("ci", "heroku_v2", "Heroku API key", "heroku_api_key", "HRKU-",
         r"\b(?P<value>HRKU-(?:AA)?[0-9A-Za-z_\-]{58,60})" + E, f"HRKU-AA{rnd(58, URLSAFE)}")
ctx("ci", "heroku_legacy", "Heroku API key (UUID)", "heroku_api_key", ["heroku"], r"heroku[A-Za-z0-9_.\-]{0,20}(?:key|token)",
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", uuid(), "HEROKU_API_KEY")
ctx("ci", "netlify", "Netlify access token", "netlify_token", ["netlify"], r"netlify[A-Za-z0-9_.\-]{0,20}(?:token|key)",
    r"(?:nfp_)?[A-Za-z0-9_\-]{40,46}", rnd(43, URLSAFE), "NETLIFY_AUTH_TOKEN", min_entropy=4.0)
ctx("ci", "vercel", "Vercel token", "vercel_token", ["vercel"], r"vercel[A-Za-z0-9_.\-]{0,20}(?:token|key)",
    r"[A-Za-z0-9]{24}", rnd(24), "VERCEL_TOKEN", min_entropy=3.8)
prefixed("ci", "octopus_deploy", "Octopus Deploy API key", "octopus_api_key", "API-",
         r"\b(?P<value>API-[A-Z0-9]{26})\b", f"API-{rnd(26, UPPER_ALNUM)}", min_entropy=3.8)
prefixed("ci", "dependency_track", "Dependency-Track API key", "dependency_track_api_key", "odt_",
         r"\b(?P<value>odt_[A-Za-z0-9]{32,})\b", f"odt_{rnd(32)}", min_entropy=3.8)
prefixed("ci", "stackhawk", "StackHawk API key", "stackhawk_api_key", "hawk.",
         r"\b(?P<value>hawk\.[0-9A-Za-z_\-]{20}\.[0-9A-Za-z_\-]{20})" + E, f"hawk.{rnd(20)}.{rnd(20)}")
prefixed("ci", "teamcity", "TeamCity access token", "teamcity_token", "eyJ0eXAiOiAiVENWMiJ9",
         r"\b(?P<value>eyJ0eXAiOiAiVENWMiJ9\.[A-Za-z0-9_\-]{36}\.[A-Za-z0-9_\-]{48})" + E,
         f"eyJ0eXAiOiAiVENWMiJ9.{rnd(36, URLSAFE)}.{rnd(48, URLSAFE)}")
prefixed("ci", "scalingo", "Scalingo API token", "scalingo_token", "tk-us-",
         r"\b(?P<value>tk-us-[A-Za-z0-9_\-]{48})" + E, f"tk-us-{rnd(48, URLSAFE)}")
prefixed("ci", "planetscale", "PlanetScale token", "planetscale_token", ["pscale_tkn_", "pscale_pw_", "pscale_oauth_"],
         r"\b(?P<value>pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_\-.]{32,64})" + E, f"pscale_tkn_{rnd(43, URLSAFE)}")
prefixed("ci", "supabase", "Supabase access token", "supabase_token", ["sbp_", "sb_secret_"],
         r"\b(?P<value>(?:sbp_[0-9a-f]{40}|sb_secret_[A-Za-z0-9_\-]{31}))" + E, f"sbp_{h(40)}")
prefixed("ci", "prefect", "Prefect API key", "prefect_api_key", "pnu_", r"\b(?P<value>pnu_[A-Za-z0-9]{36})\b", f"pnu_{rnd(36)}")
prefixed("ci", "harness", "Harness PAT", "harness_token", ["pat.", "sat."],
         r"\b(?P<value>(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[0-9a-f]{24}\.[A-Za-z0-9]{20})\b",
         f"pat.{rnd(22, URLSAFE)}.{h(24)}.{rnd(20)}")
ctx("ci", "jenkins_api_token", "Jenkins API token", "jenkins_token", ["jenkins"], r"jenkins[A-Za-z0-9_.\-]{0,20}(?:token|key)",
    r"11[0-9a-f]{32}|[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "11" + h(32), "JENKINS_API_TOKEN",
    description="API tokens are 11 + 32 hex (legacy: 32 hex); build-trigger tokens are often UUIDs.")
rule("ci", "secret.ci.jenkins_crumb", "Jenkins CSRF crumb", "jenkins_crumb", ["Jenkins-Crumb"],
     r"(?i)Jenkins-Crumb\s*[:=]\s*(?P<value>[0-9a-f]{32,64})\b", [f"-H 'Jenkins-Crumb:{h(32)}'"], ["Jenkins-Crumb: $CRUMB"],
     min_entropy=3.0)
rule("ci", "secret.ci.jenkins_setup_password", "Jenkins initial admin password (setup log)", "jenkins_setup_password",
     ["password to proceed to installation", "initialAdminPassword"],
     r"(?is)password to proceed to installation:?\s{1,20}(?P<value>[0-9a-f]{32})\b",
     [f"Please use the following password to proceed to installation:\n\n{h(32)}\n\nThis may also be found at: /var/jenkins_home/secrets/initialAdminPassword"],
     ["cat /var/jenkins_home/secrets/initialAdminPassword"], min_entropy=3.0,
     description="The banner Jenkins prints on first start: the generated admin password follows it.")
ctx("ci", "kubernetes_bootstrap_token", "Kubernetes bootstrap token", "kubernetes_bootstrap_token", ["token", "kubeadm"],
    r"(?:bootstrap|kubeadm|join)[A-Za-z0-9_.\- ]{0,20}token", r"[a-z0-9]{6}\.[a-z0-9]{16}",
    f"{rnd(6, LOWER_ALNUM)}.{rnd(16, LOWER_ALNUM)}", "kubeadm join --token", min_entropy=3.2)

# ---------------------------------------------------------------- package registries
prefixed("registries", "npm", "npm access token", "npm_token", "npm_", r"\b(?P<value>npm_[A-Za-z0-9]{36})\b", f"npm_{rnd(36)}",
         min_entropy=3.5)
rule("registries", "secret.registries.npmrc_auth_token", "npm registry auth token in .npmrc", "npm_token", ["_authToken"],
     r"""//[A-Za-z0-9.\-]+(?::\d+)?(?:/[^\s:]*)?/:_authToken\s*=\s*["']?(?P<value>npm_[A-Za-z0-9]{36}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Za-z0-9+/=_\-.]{20,400})""",
     [f"//registry.npmjs.org/:_authToken={uuid()}", f"//npm.corp.io/repo/:_authToken= {uuid()}"],
     ["//registry.npmjs.org/:_authToken=${NPM_TOKEN}", f"_authToken={uuid()}"], min_entropy=3.2,
     description="npm scopes auth tokens to a registry URL (`//host/path/:_authToken=`); legacy tokens are UUIDs of any version.")
rule("registries", "secret.registries.npmrc_auth", "npm registry basic auth in .npmrc", "npm_token", ["_auth", "_password"],
     r"""(?m)(?:^|:)_(?:auth|password)\s*=\s*["']?(?P<value>[A-Za-z0-9+/]{12,200}={0,2})""",
     [f"_auth = {base64.b64encode(('deploy:' + rnd(16)).encode()).decode()}"], ["_auth = ${NPM_AUTH}"], min_entropy=3.2)
prefixed("registries", "pypi", "PyPI upload token", "pypi_token", ["pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"],
         r"\b(?P<value>pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{100,400})",
         f"pypi-AgEIcHlwaS5vcmc{rnd(150, URLSAFE)}")
prefixed("registries", "rubygems", "RubyGems API key", "rubygems_api_key", "rubygems_",
         r"\b(?P<value>rubygems_[0-9a-f]{48})\b", f"rubygems_{h(48)}")
prefixed("registries", "crates_io", "crates.io API token", "crates_io_api_key", "cio",
         r"\b(?P<value>cio[A-Za-z0-9]{32})\b", f"cio{rnd(32)}", min_entropy=4.0)
prefixed("registries", "nuget", "NuGet API key", "nuget_api_key", "oy2", r"\b(?P<value>oy2[a-z0-9]{43})\b",
         f"oy2{rnd(43, LOWER_ALNUM)}", min_entropy=3.8)
prefixed("registries", "docker_hub", "Docker Hub access token", "docker_hub_token", ["dckr_pat_", "dckr_oat_"],
         r"\b(?P<value>dckr_(?:pat|oat)_[A-Za-z0-9_\-]{27,32})" + E, f"dckr_pat_{rnd(27, URLSAFE)}")
prefixed("registries", "artifactory_api_key", "JFrog Artifactory API key", "artifactory_api_key", "AKCp",
         r"\b(?P<value>AKCp[A-Za-z0-9]{69})\b", f"AKCp{rnd(69)}")
prefixed("registries", "artifactory_reference_token", "JFrog reference token", "artifactory_token", "cmVmdGtuOjAxOj",
         r"\b(?P<value>cmVmdGtuOjAxOj[A-Za-z0-9]{40,80})\b", f"cmVmdGtuOjAxOj{rnd(50)}")
prefixed("registries", "clojars", "Clojars deploy token", "clojars_token", "CLOJARS_",
         r"\b(?P<value>CLOJARS_[a-z0-9]{60})\b", f"CLOJARS_{rnd(60, LOWER_ALNUM)}")
ctx("registries", "gradle_credentials", "Gradle repository password", "gradle_password", ["gradle", "maven", "repoPassword"],
    r"(?:gradle|maven|nexus|artifactory|repo)[A-Za-z0-9_.\-]{0,20}(?:password|pass|token)", r"[^\s\"'$]{8,80}",
    "Zk4" + rnd(13), "mavenPassword", min_entropy=3.0, validator="secret_value")

# ---------------------------------------------------------------- chat
prefixed("chat", "slack_bot_token", "Slack bot token", "slack_bot_token", "xoxb-",
         r"\b(?P<value>xoxb-[0-9]{9,13}-[0-9]{9,13}(?:-[0-9]{9,13})?-[A-Za-z0-9]{24,34})\b",
         f"xoxb-{rnd(12, string.digits)}-{rnd(13, string.digits)}-{rnd(24)}")
prefixed("chat", "slack_user_token", "Slack user token", "slack_user_token", ["xoxp-", "xoxa-", "xoxr-"],
         r"\b(?P<value>xox[par]-[0-9]{9,13}-[0-9]{9,13}-[0-9]{9,13}-[0-9a-f]{32,64})\b",
         f"xoxp-{rnd(12, string.digits)}-{rnd(12, string.digits)}-{rnd(13, string.digits)}-{h(32)}")
prefixed("chat", "slack_legacy_token", "Slack legacy token", "slack_legacy_token", ["xoxo-", "xoxs-", "xoxb-"],
         r"\b(?P<value>xox[osb]-[0-9]{8,14}-[0-9A-Za-z]{8,40}(?:-[0-9A-Za-z]{6,64}){0,2})\b",
         f"xoxs-{rnd(10, string.digits)}-{rnd(12, string.digits)}-{h(40)}")
prefixed("chat", "slack_app_token", "Slack app-level token", "slack_app_token", "xapp-",
         r"\b(?P<value>xapp-\d-[A-Z0-9]{9,12}-\d{10,14}-[a-f0-9]{64})\b", f"xapp-1-A{rnd(10, UPPER_ALNUM)}-{rnd(13, string.digits)}-{h(64)}")
prefixed("chat", "slack_config_token", "Slack configuration token", "slack_config_token", ["xoxe.xox", "xoxe-"],
         r"\b(?P<value>xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9]{140,170})\b", f"xoxe.xoxp-1-{rnd(146)}")
prefixed("chat", "slack_webhook", "Slack incoming webhook", "slack_webhook", "hooks.slack.com/",
         r"(?P<value>https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9]{8,12}/[A-Za-z0-9]{8,12}/[A-Za-z0-9]{20,40})",
         f"https://hooks.slack.com/services/T{rnd(10, UPPER_ALNUM)}/B{rnd(10, UPPER_ALNUM)}/{rnd(24)}", assign=False)
discord = f"M{rnd(25, URLSAFE)}.{rnd(6, URLSAFE)}.{rnd(38, URLSAFE)}"
ctx("chat", "discord_bot_token", "Discord bot token", "discord_bot_token", ["discord", "bot"],
    r"(?:discord|bot)[A-Za-z0-9_.\-]{0,20}(?:token|key|secret)?", r"[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}",
    discord, "DISCORD_BOT_TOKEN", min_entropy=4.0)
prefixed("chat", "discord_webhook", "Discord webhook", "discord_webhook", ["discord.com/api/webhooks/", "discordapp.com/api/webhooks/"],
         r"(?P<value>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_\-]{60,68})",
         f"https://discord.com/api/webhooks/{rnd(19, string.digits)}/{rnd(68, URLSAFE)}", assign=False)
prefixed("chat", "teams_webhook", "Microsoft Teams webhook", "microsoft_teams_webhook", [".webhook.office.com/", "outlook.office.com/webhook"],
         r"(?P<value>https://[a-z0-9\-.]*(?:webhook\.office\.com/webhookb2|outlook\.office\.com/webhook)/[0-9a-f\-]{36}@[0-9a-f\-]{36}/IncomingWebhook/[0-9a-f]{32}/[0-9a-f\-]{36}(?:/[A-Za-z0-9_\-]{40,50})?)",
         f"https://contoso.webhook.office.com/webhookb2/{uuid()}@{uuid()}/IncomingWebhook/{h(32)}/{uuid()}", assign=False)
prefixed("chat", "telegram_bot_token", "Telegram bot token", "telegram_bot_token",
         ":AA", r"(?:^|[^0-9A-Za-z])(?P<value>\d{8,10}:AA[A-Za-z0-9_\-]{32,35})" + E, f"{rnd(10, string.digits)}:AA{rnd(33, URLSAFE)}")
ctx("chat", "twitch_stream_key", "Twitch stream key", "twitch_stream_key", ["live_"],
    r"(?:stream|twitch)[A-Za-z0-9_.\-]{0,20}key", r"live_\d{6,10}_[A-Za-z0-9]{30}", f"live_{rnd(9, string.digits)}_{rnd(30)}",
    "stream_key")
prefixed("chat", "mattermost", "Mattermost webhook", "mattermost_webhook", "/hooks/",
         r"(?P<value>https://[A-Za-z0-9.\-]+/hooks/[a-z0-9]{26})\b", f"https://chat.acme.io/hooks/{rnd(26, LOWER_ALNUM)}",
         assign=False, context=r"(?i)mattermost", context_window=120,
         negative=["https://chat.acme.io/hooks/abc"])
FILES["chat"][-1]["examples"] = [f"MATTERMOST_WEBHOOK=https://chat.acme.io/hooks/{rnd(26, LOWER_ALNUM)}"]

# ---------------------------------------------------------------- payments
prefixed("payments", "stripe_secret_key", "Stripe secret or restricted key", "stripe_secret_key",
         ["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
         r"\b(?P<value>[sr]k_(?:live|test)_[A-Za-z0-9]{24,247})\b", f"sk_live_{rnd(99)}",
         ["sk_test_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_111111111111111111111111"], min_entropy=3.5)
prefixed("payments", "stripe_webhook_secret", "Stripe webhook signing secret", "stripe_webhook_secret", "whsec_",
         r"\b(?P<value>whsec_[A-Za-z0-9+/]{32,64})" + E, f"whsec_{rnd(32)}")
prefixed("payments", "square_access_token", "Square access token", "square_access_token", ["sq0atp-", "EAAA"],
         r"\b(?P<value>(?:sq0atp-[A-Za-z0-9_\-]{22}|EAAA[A-Za-z0-9_\-]{60}))" + E, f"EAAA{rnd(60, URLSAFE)}")
prefixed("payments", "square_oauth_secret", "Square OAuth secret", "square_oauth_secret", "sq0csp-",
         r"\b(?P<value>sq0csp-[A-Za-z0-9_\-]{43})" + E, f"sq0csp-{rnd(43, URLSAFE)}")
prefixed("payments", "braintree_access_token", "PayPal Braintree access token", "braintree_access_token",
         "access_token$production$", r"(?P<value>access_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32})",
         f"access_token$production${rnd(16, LOWER_ALNUM)}${h(32)}")
prefixed("payments", "plaid_access_token", "Plaid access token", "plaid_token", ["access-production-", "access-development-", "access-sandbox-"],
         r"\b(?P<value>access-(?:production|development|sandbox)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b",
         f"access-production-{uuid()}")
prefixed("payments", "flutterwave", "Flutterwave secret key", "flutterwave_key", ["FLWSECK", "FLWSECK_TEST"],
         r"\b(?P<value>FLWSECK(?:_TEST)?-[a-h0-9]{32}-X)" + E, f"FLWSECK-{rnd(32, 'abcdefgh0123456789')}-X")
prefixed("payments", "shopify_token", "Shopify access token or secret", "shopify_token",
         ["shpat_", "shpss_", "shpca_", "shppa_"], r"\b(?P<value>shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32})\b", f"shpat_{h(32)}")
prefixed("payments", "shippo", "Shippo API token", "shippo_token", ["shippo_live_", "shippo_test_"],
         r"\b(?P<value>shippo_(?:live|test)_[0-9a-f]{40})\b", f"shippo_live_{h(40)}")
prefixed("payments", "easypost", "EasyPost API key", "easypost_key", "EZAK", r"\b(?P<value>EZ[AT]K[0-9a-zA-Z]{54})\b", f"EZAK{rnd(54)}")
prefixed("payments", "duffel", "Duffel API token", "duffel_token", ["duffel_live_", "duffel_test_"],
         r"\b(?P<value>duffel_(?:live|test)_[A-Za-z0-9_\-=]{43})" + E, f"duffel_live_{rnd(43, URLSAFE)}")
ctx("payments", "paypal_client_secret", "PayPal client secret", "paypal_secret", ["paypal"],
    r"paypal[A-Za-z0-9_.\-]{0,20}secret", r"E[A-Za-z0-9_\-]{79}", "E" + rnd(79, URLSAFE), "PAYPAL_CLIENT_SECRET", min_entropy=4.0)
# ---------------------------------------------------------------- AI and SaaS
prefixed("ai", "openai", "OpenAI API key", "openai_api_key", ["T3BlbkFJ"],
         r"\b(?P<value>sk-(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_\-]{16,80}T3BlbkFJ[A-Za-z0-9_\-]{16,80})" + E,
         f"sk-proj-{rnd(40, URLSAFE)}T3BlbkFJ{rnd(40, URLSAFE)}")
prefixed("ai", "openai_project", "OpenAI project key", "openai_api_key", ["sk-proj-", "sk-svcacct-", "sk-admin-"],
         r"\b(?P<value>sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{80,200})" + E, f"sk-proj-{rnd(156, URLSAFE)}", min_entropy=4.5)
ctx("ai", "openai_legacy", "OpenAI legacy key", "openai_api_key", ["openai", "sk-"],
    r"(?:openai|gpt|llm)[A-Za-z0-9_.\-]{0,20}(?:key|token|secret)", r"sk-[A-Za-z0-9]{48}", "sk-" + rnd(48), "OPENAI_API_KEY",
    min_entropy=4.5)
prefixed("ai", "anthropic", "Anthropic API key", "anthropic_api_key", ["sk-ant-api", "sk-ant-admin", "sk-ant-oat"],
         r"\b(?P<value>sk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_\-]{80,100})" + E, f"sk-ant-api03-{rnd(93, URLSAFE)}AA")
prefixed("ai", "huggingface", "Hugging Face token", "huggingface_token", ["hf_", "api_org_"],
         r"\b(?P<value>(?:hf_|api_org_)[A-Za-z]{34})\b", f"hf_{rnd(34, string.ascii_letters)}", min_entropy=3.8)
prefixed("ai", "groq", "Groq API key", "groq_api_key", "gsk_", r"\b(?P<value>gsk_[A-Za-z0-9]{52})\b", f"gsk_{rnd(52)}")
prefixed("ai", "replicate", "Replicate API token", "replicate_token", "r8_", r"\b(?P<value>r8_[A-Za-z0-9]{37})\b", f"r8_{rnd(37)}")
prefixed("ai", "perplexity", "Perplexity API key", "perplexity_key", "pplx-", r"\b(?P<value>pplx-[A-Za-z0-9]{48})\b", f"pplx-{rnd(48)}")
prefixed("ai", "xai", "xAI API key", "xai_key", "xai-", r"\b(?P<value>xai-[A-Za-z0-9]{80})\b", f"xai-{rnd(80)}")
prefixed("ai", "tavily", "Tavily API key", "tavily_api_key", "tvly-", r"\b(?P<value>tvly-(?:dev-|prod-)?[A-Za-z0-9]{32})\b",
         f"tvly-{rnd(32)}", min_entropy=3.8)
prefixed("ai", "firecrawl", "Firecrawl API key", "firecrawl_api_key", "fc-", r"\b(?P<value>fc-[0-9a-f]{32})\b", f"fc-{h(32)}",
         min_entropy=3.4)
prefixed("ai", "jina", "Jina AI API key", "jina_api_key", "jina_", r"\b(?P<value>jina_[a-f0-9]{32}[A-Za-z0-9_\-]{28,32})" + E,
         f"jina_{h(32)}{rnd(30, URLSAFE)}")
prefixed("ai", "langsmith", "LangSmith API key", "langsmith_key", ["lsv2_pt_", "lsv2_sk_"],
         r"\b(?P<value>lsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10})\b", f"lsv2_pt_{h(32)}_{h(10)}")
prefixed("ai", "pinecone", "Pinecone API key", "pinecone_key", "pcsk_", r"\b(?P<value>pcsk_[A-Za-z0-9_]{60,90})\b", f"pcsk_{rnd(70)}")
prefixed("ai", "kagi", "Kagi API key", "kagi_api_key", "kagi", r"(?i)kagi[A-Za-z0-9_.\-/?=]{0,30}(?:key|token)[\"']?\s*[:=]\s*[\"']?(?P<value>[A-Za-z0-9_\-]{11}\.[A-Za-z0-9_\-]{32,64})" + E,
         f"{rnd(11, URLSAFE)}.{rnd(32, URLSAFE)}", assign=False, negative=["KAGI_API_KEY = ${KAGI}"])
FILES["ai"][-1]["examples"] = [f"KAGI_API_KEY={rnd(11, ALNUM)}.{rnd(32, ALNUM)}"]
ctx("ai", "cohere", "Cohere API key", "cohere_key", ["cohere", "co_api"], r"(?:cohere|co_api)[A-Za-z0-9_.\-]{0,20}(?:key|token)",
    r"[A-Za-z0-9]{40}", rnd(40), "COHERE_API_KEY", min_entropy=4.0)
ctx("ai", "mistral", "Mistral API key", "mistral_key", ["mistral"], r"mistral[A-Za-z0-9_.\-]{0,20}(?:key|token)",
    r"[A-Za-z0-9]{32}", rnd(32), "MISTRAL_API_KEY", min_entropy=4.0)
ctx("ai", "deepseek", "DeepSeek API key", "deepseek_key", ["deepseek"], r"deepseek[A-Za-z0-9_.\-]{0,20}(?:key|token)",
    r"sk-[0-9a-f]{32}", "sk-" + h(32), "DEEPSEEK_API_KEY", min_entropy=3.4)

prefixed("saas", "sendgrid", "SendGrid API key", "sendgrid_api_key", "SG.",
         r"\b(?P<value>SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})" + E, f"SG.{rnd(22, URLSAFE)}.{rnd(43, URLSAFE)}")
prefixed("saas", "mailgun", "Mailgun API key", "mailgun_api_key", "key-", r"\b(?P<value>key-[0-9a-f]{32})\b", f"key-{h(32)}",
         min_entropy=3.4)
prefixed("saas", "mailgun_webhook", "Mailgun private key (new format)", "mailgun_api_key", "-",
         r"\b(?P<value>[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})\b", f"{h(32)}-{h(8)}-{h(8)}",
         context=r"(?i)mailgun", context_window=80, negative=[f"{h(32)}-{h(8)}-{h(8)}"])
FILES["saas"][-1]["keywords"] = ["mailgun"]
FILES["saas"][-1]["examples"] = [f"MAILGUN_API_KEY={h(32)}-{h(8)}-{h(8)}"]
prefixed("saas", "mailchimp", "Mailchimp API key", "mailchimp_api_key", "-us",
         r"\b(?P<value>[0-9a-f]{32}-us\d{1,2})\b", f"{h(32)}-us14", min_entropy=3.4)
prefixed("saas", "mapbox_secret", "Mapbox secret token", "mapbox_secret_token", ["sk.eyJ", "tk.eyJ"],
         r"\b(?P<value>[st]k\.eyJ[A-Za-z0-9_\-]{10,200}\.[A-Za-z0-9_\-]{20,})" + E,
         f"sk.{b64u(json.dumps({'u': 'mapper', 'a': rnd(12)}))}.{rnd(22, URLSAFE)}",
         [f"pk.{b64u(json.dumps({'u': 'mapper', 'a': rnd(12)}))}.{rnd(22, URLSAFE)}"])
rule("saas", "secret.saas.twilio_api_key", "Twilio API key", "twilio_api_key", ["SK"],
     r"\b(?P<value>SK[0-9a-fA-F]{32})\b", [f"TWILIO_API_KEY={'SK' + h(32)}"], [f"SK{h(32)}", "SK" + "0" * 32],
     min_entropy=3.2, context=r"(?i)twilio|\bAC[0-9a-f]{32}\b|api_?key|secret", context_window=80)
ctx("saas", "twilio_auth_token", "Twilio auth token", "twilio_auth_token", ["twilio", "auth_token"],
    r"(?:twilio[A-Za-z0-9_.\-]{0,20})?auth_?token", r"[0-9a-f]{32}", h(32), "TWILIO_AUTH_TOKEN", min_entropy=3.2,
    context=r"(?i)twilio|\bAC[0-9a-f]{32}\b", context_window=200)
ctx("saas", "okta", "Okta API token", "okta_api_token", ["okta"], r"okta[A-Za-z0-9_.\-]{0,20}(?:token|key|secret)",
    r"00[A-Za-z0-9_\-]{40}", "00" + rnd(40, URLSAFE), "OKTA_API_TOKEN", min_entropy=4.0)
ctx("saas", "datadog_api_key", "Datadog API key", "datadog_api_key", ["datadog", "dd_api", "dd-api"],
    r"(?:datadog|dd)[A-Za-z0-9_.\-]{0,20}api_?key", r"[0-9a-f]{32}", h(32), "DD_API_KEY", min_entropy=3.2)
ctx("saas", "datadog_app_key", "Datadog application key", "datadog_app_key", ["datadog", "dd_app", "dd-app"],
    r"(?:datadog|dd)[A-Za-z0-9_.\-]{0,20}app(?:lication)?_?key", r"[0-9a-f]{40}", h(40), "DD_APP_KEY", min_entropy=3.2)
prefixed("saas", "new_relic_user_key", "New Relic user API key", "new_relic_key", "NRAK-",
         r"\b(?P<value>NRAK-[A-Z0-9]{27})\b", f"NRAK-{rnd(27, UPPER_ALNUM)}")
prefixed("saas", "new_relic_other", "New Relic key", "new_relic_key", ["NRJS-", "NRII-", "NRIQ-", "NRAA-", "NRRA-", "NRIK-"],
         r"\b(?P<value>NR(?:JS-[a-f0-9]{19}|I[IQK]-[A-Za-z0-9_\-]{32}|AA-[a-f0-9]{27}|RA-[a-f0-9]{42}))" + E, f"NRII-{rnd(32, URLSAFE)}")
prefixed("saas", "new_relic_license", "New Relic license key", "new_relic_license_key", "NRAL",
         r"\b(?P<value>(?:[a-z]{2}\d{2}xx[a-f0-9]{30}|[a-f0-9]{36})NRAL)\b", f"{h(36)}NRAL")
ctx("saas", "new_relic_license_legacy", "New Relic license key (legacy)", "new_relic_license_key", ["license_key", "new_relic", "newrelic"],
    r"(?:(?:new_?relic|nr)[A-Za-z0-9_.\-]{0,20})?license_?key", r"[0-9a-f]{40}", h(40), "NEW_RELIC_LICENSE_KEY", min_entropy=3.2,
    context=r"(?i)new[ _\-]?relic|\bnr_|newrelic", context_window=240,
    description="`license_key:` in newrelic.yml, recognised by a New Relic mention nearby.")
prefixed("saas", "sentry", "Sentry token", "sentry_token", ["sntrys_", "sntryu_"],
         r"\b(?P<value>(?:sntrys_eyJ[A-Za-z0-9+/=_\-]{60,400}|sntryu_[0-9a-f]{64}))" + E, f"sntryu_{h(64)}")
prefixed("saas", "dynatrace", "Dynatrace API token", "dynatrace_token", "dt0c01.",
         r"\b(?P<value>dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})\b", f"dt0c01.{rnd(24, UPPER_ALNUM)}.{rnd(64, UPPER_ALNUM)}")
prefixed("saas", "grafana_cloud", "Grafana Cloud token", "grafana_token", "glc_",
         r"\b(?P<value>glc_[A-Za-z0-9+/]{32,400}={0,2})", f"glc_{rnd(80, ALNUM)}")
prefixed("saas", "grafana_service_account", "Grafana service account token", "grafana_token", "glsa_",
         r"\b(?P<value>glsa_[A-Za-z0-9]{32}_[0-9a-f]{8})\b", f"glsa_{rnd(32)}_{h(8)}")
prefixed("saas", "grafana_api_key", "Grafana API key", "grafana_token", "eyJrIjoi",
         r"\b(?P<value>eyJrIjoi[A-Za-z0-9]{50,400}={0,2})",
         base64.b64encode(json.dumps({"k": rnd(32), "n": "ci", "id": 1}, separators=(",", ":")).encode()).decode().rstrip("="))
prefixed("saas", "postman", "Postman API key", "postman_api_key", "PMAK-",
         r"\b(?P<value>PMAK-[0-9a-f]{24}-[0-9a-f]{34})\b", f"PMAK-{h(24)}-{h(34)}")
prefixed("saas", "dropbox", "Dropbox access token", "dropbox_access_token", "sl.",
         r"\b(?P<value>sl\.[A-Za-z0-9_\-]{130,1400})", f"sl.{rnd(135, URLSAFE)}", min_entropy=4.5)
prefixed("saas", "figma", "Figma personal access token", "figma_token", "figd_",
         r"\b(?P<value>figd_[A-Za-z0-9_\-]{40})" + E, f"figd_{rnd(40, URLSAFE)}")
prefixed("saas", "notion", "Notion integration token", "notion_token", ["secret_", "ntn_"],
         r"\b(?P<value>(?:secret_[A-Za-z0-9]{43}|ntn_[0-9]{11}[A-Za-z0-9]{35}))\b", f"ntn_{rnd(11, string.digits)}{rnd(35)}",
         min_entropy=4.0)
prefixed("saas", "linear", "Linear API key", "linear_api_key", "lin_api_", r"\b(?P<value>lin_api_[A-Za-z0-9]{40})\b", f"lin_api_{rnd(40)}")
prefixed("saas", "airtable", "Airtable personal access token", "airtable_token", "pat",
         r"\b(?P<value>pat[A-Za-z0-9]{14}\.[a-f0-9]{64})\b", f"pat{rnd(14)}.{h(64)}")
prefixed("saas", "contentful", "Contentful token", "contentful_token", "CFPAT-",
         r"\b(?P<value>CFPAT-[A-Za-z0-9_\-]{43})" + E, f"CFPAT-{rnd(43, URLSAFE)}")
prefixed("saas", "hubspot", "HubSpot private app token", "hubspot_token", ["pat-na1-", "pat-eu1-"],
         r"\b(?P<value>pat-(?:na|eu)1-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b", f"pat-na1-{uuid()}")
prefixed("saas", "salesforce", "Salesforce access token", "salesforce_access_token", "00D",
         r"\b(?P<value>00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{80,120})", f"00D{rnd(15)}!{rnd(96, ALNUM + '._')}")
prefixed("saas", "facebook_access_token", "Facebook access token", "facebook_access_token", "EAA",
         r"\b(?P<value>EAA[A-Za-z0-9]{90,300})\b", f"EAACEdEose0cBA{rnd(120)}", min_entropy=4.3)
ctx("saas", "facebook_app_secret", "Facebook app secret", "facebook_secret_key", ["facebook", "fb_", "fb-"],
    r"(?:facebook|fb)[A-Za-z0-9_.\-]{0,20}(?:secret|token|key)", r"[0-9a-f]{32}", h(32), "FACEBOOK_APP_SECRET", min_entropy=3.2)
prefixed("saas", "twitter_bearer", "Twitter/X bearer token", "twitter_bearer_token", "AAAAAAAAAAAAAAAAAAAA",
         r"\b(?P<value>AAAAAAAAAAAAAAAAAAAA[A-Za-z0-9%]{30,200})", f"AAAAAAAAAAAAAAAAAAAAA{rnd(80)}%3D{rnd(50)}",
         ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
ctx("saas", "twitter_secret", "Twitter/X consumer or access secret", "twitter_secret_key", ["twitter", "consumer_secret"],
    r"(?:twitter|consumer|access_token)[A-Za-z0-9_.\-]{0,20}secret", r"[A-Za-z0-9]{45,50}", rnd(50), "TWITTER_CONSUMER_SECRET",
    min_entropy=4.0)
ctx("saas", "linkedin_secret", "LinkedIn client secret", "linkedin_secret_key", ["linkedin"],
    r"linkedin[A-Za-z0-9_.\-]{0,20}secret", r"[A-Za-z0-9]{16}", rnd(16), "LINKEDIN_CLIENT_SECRET", min_entropy=3.5)
prefixed("saas", "adafruit", "Adafruit IO key", "adafruit_io_key", "aio_", r"\b(?P<value>aio_[A-Za-z0-9]{28})\b", f"aio_{rnd(28)}")
prefixed("saas", "typeform", "Typeform token", "typeform_token", "tfp_", r"\b(?P<value>tfp_[A-Za-z0-9_\-.=]{59})" + E, f"tfp_{rnd(59, URLSAFE)}")
prefixed("saas", "frameio", "Frame.io token", "frameio_token", "fio-u-", r"\b(?P<value>fio-u-[A-Za-z0-9_\-=]{64})" + E, f"fio-u-{rnd(64, URLSAFE)}")
prefixed("saas", "readme", "ReadMe API key", "readme_key", "rdme_", r"\b(?P<value>rdme_[a-z0-9]{70})\b", f"rdme_{rnd(70, LOWER_ALNUM)}")
prefixed("saas", "lob", "Lob API key", "lob_key", ["live_", "test_"], r"\b(?P<value>(?:live|test)_(?:pub_)?[0-9a-f]{35})\b",
         f"live_{h(35)}", context=r"(?i)lob", context_window=80)
FILES["saas"][-1]["examples"] = [f"LOB_API_KEY=live_{h(35)}"]
prefixed("saas", "postmark", "Postmark server token", "postmark_api_token", "postmark",
         r"(?i)postmark[A-Za-z0-9_.\-]{0,20}(?:token|key)?[\"']?\s*[:=]\s*[\"']?(?P<value>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
         uuid(), assign=False, negative=["POSTMARK_API_TOKEN=${TOKEN}"])
FILES["saas"][-1]["examples"] = [f"POSTMARK_API_TOKEN={uuid()}"]
ctx("saas", "algolia", "Algolia admin key", "algolia_key", ["algolia"], r"algolia[A-Za-z0-9_.\-]{0,20}(?:admin|api|write)_?key",
    r"[0-9a-f]{32}", h(32), "ALGOLIA_ADMIN_KEY", min_entropy=3.2)
ctx("saas", "cloudflare_token", "Cloudflare API token", "cloudflare_token", ["cloudflare", "cf_api", "cf-api"],
    r"(?:cloudflare|cf)[A-Za-z0-9_.\-]{0,20}(?:token|key)", r"[A-Za-z0-9_\-]{37,40}", rnd(40, URLSAFE), "CLOUDFLARE_API_TOKEN",
    min_entropy=4.0)
ctx("saas", "snyk", "Snyk token", "snyk_token", ["snyk"], r"snyk[A-Za-z0-9_.\-]{0,20}(?:token|key)",
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", uuid(), "SNYK_TOKEN")
ctx("saas", "nasa", "NASA API key", "nasa_api_key", ["nasa"], r"nasa[A-Za-z0-9_.\-]{0,20}(?:key|token)",
    r"[A-Za-z0-9]{40}", rnd(40), "NASA_API_KEY", min_entropy=4.0)
ctx("saas", "sauce", "Sauce Labs access key", "sauce_token", ["sauce"], r"sauce[A-Za-z0-9_.\-]{0,20}(?:access_?key|token|key)",
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", uuid(), "SAUCE_ACCESS_KEY")
ctx("saas", "codeclimate", "Code Climate reporter id", "codeclimate_reporter_id", ["cc_test_reporter", "codeclimate"],
    r"(?:cc_test_reporter_id|codeclimate[A-Za-z0-9_.\-]{0,20}(?:token|id|key))", r"[0-9a-f]{64}", h(64), "CC_TEST_REPORTER_ID", min_entropy=3.4)
ctx("saas", "segment", "Segment token", "segment_token", ["segment"], r"segment[A-Za-z0-9_.\-]{0,20}(?:token|key|secret)",
    r"sgp_[A-Za-z0-9]{64}|[A-Za-z0-9]{32}", "sgp_" + rnd(64), "SEGMENT_WRITE_KEY", min_entropy=3.8)
ctx("saas", "particle", "Particle access token", "particle_io_access_token", ["particle"],
    r"particle[A-Za-z0-9_.\-]{0,20}(?:token|key)", r"[0-9a-f]{40}", h(40), "PARTICLE_ACCESS_TOKEN", min_entropy=3.2)
ctx("saas", "ibm_cloud_api_key", "IBM Cloud API key", "ibm_cloud_iam_key", ["ibm", "iam", "cloud"],
    r"(?:ibm|iam|cloud)[A-Za-z0-9_.\-]{0,20}(?:api_?key|key|pwd|password)", r"[A-Za-z0-9_\-]{44}", rnd(44, URLSAFE),
    "IBM_CLOUD_API_KEY", min_entropy=3.5)
ctx("saas", "ibm_cos_hmac", "IBM COS HMAC secret", "ibm_cos_hmac_key", ["secret_access_key", "cos_hmac", "hmac"],
    r"(?:cos_hmac[A-Za-z0-9_.\-]{0,20}|)secret_?access_?key", r"[0-9a-f]{48}", h(48), "secret_access_key", min_entropy=3.4)
ctx("saas", "softlayer", "SoftLayer API key", "softlayer_api_key", ["softlayer", "sl_", "sl-"],
    r"(?:softlayer|sl)[A-Za-z0-9_.\-]{0,20}(?:api_?key|key|pass(?:word)?|pwd)", r"[a-z0-9]{64}", rnd(64, LOWER_ALNUM), "SOFTLAYER_API_KEY",
    min_entropy=3.0)
prefixed("saas", "softlayer_url", "SoftLayer API key in URL", "softlayer_api_key", "api.softlayer.com",
         r"api\.softlayer\.com/(?:soap|rest|xmlrpc)/v3(?:\.1)?/(?P<value>[a-z0-9]{64})\b",
         f"http://api.softlayer.com/rest/v3/{rnd(64, LOWER_ALNUM)}", assign=False)
prefixed("saas", "cloudant_url", "Cloudant credentials in URL", "cloudant_credentials", "cloudant.com",
         r"https?://[A-Za-z0-9_\-]+:(?P<value>[A-Za-z0-9_\-]{24,64})@[A-Za-z0-9_\-.]+\.cloudant\.com",
         f"https://acct:{rnd(40, LOWER_ALNUM)}@acct.cloudant.com", assign=False, min_entropy=3.0)
ctx("saas", "cloudant_password", "Cloudant password or API key", "cloudant_credentials", ["cloudant", "clou_"],
    r"clou(?:dant)?[A-Za-z0-9_.\-]{0,20}(?:password|pwd|pw|api_?key|key)", r"[A-Za-z0-9_\-]{24,64}", rnd(40, LOWER_ALNUM),
    "CLOUDANT_PASSWORD", min_entropy=3.0)
ctx("saas", "thingsboard", "ThingsBoard access token", "thingsboard_access_token", ["thingsboard", "/api/v1/"],
    r"(?:thingsboard[A-Za-z0-9_.\-]{0,20}(?:token|key|secret)|/api/v1/)", r"[A-Za-z0-9]{20}", rnd(20), "THINGSBOARD_TOKEN",
    min_entropy=3.5)
ctx("saas", "blynk", "Blynk token", "blynk_token", ["blynk"], r"blynk[A-Za-z0-9_.\-]{0,20}(?:token|auth|secret|key)",
    r"[A-Za-z0-9_\-]{32,40}", rnd(32, URLSAFE), "BLYNK_AUTH_TOKEN", min_entropy=3.8)
ctx("saas", "truenas", "TrueNAS API key", "truenas_api_key", ["truenas", "freenas"],
    r"(?:truenas|freenas)[A-Za-z0-9_.\-]{0,20}(?:key|token)", r"\d{1,3}-[A-Za-z0-9]{64}", "1-" + rnd(64), "TRUENAS_API_KEY",
    min_entropy=4.0)
prefixed("saas", "age_secret_key", "age secret key", "age_identity", "AGE-SECRET-KEY-1",
         r"\b(?P<value>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b",
         "AGE-SECRET-KEY-1" + rnd(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"))
ctx("saas", "wireguard_private_key", "WireGuard private or preshared key", "wireguard_private_key", ["PrivateKey", "PresharedKey"],
    r"(?:PrivateKey|PresharedKey)", r"[A-Za-z0-9+/]{43}=", rnd(42, B64) + "A=", "PrivateKey", min_entropy=4.0)
ctx("saas", "django_secret_key", "Django SECRET_KEY", "django_secret_key", ["SECRET_KEY"],
    r"(?:django_)?secret_key", r"[^\s'\"]{40,100}", "django-insecure-" + rnd(50, ALNUM + "!@#%^&*(-_=+)"), "SECRET_KEY",
    min_entropy=4.0)
ctx("saas", "jwt_secret", "JWT signing secret", "json_web_token_secret", ["jwt"], r"jwt[A-Za-z0-9_.\-]{0,20}(?:secret|key)",
    r"[^\s'\"]{16,128}", rnd(32, ALNUM + "!#%&*+-"), "JWT_SECRET", min_entropy=3.5, validator="secret_value")
ctx("saas", "vault_unseal_key", "HashiCorp Vault unseal or recovery key", "vault_unseal_key", ["unseal", "recovery"],
    r"(?:unseal(?:[A-Za-z0-9_.\- ]{0,20}key(?:\s*\d)?)?|recovery[A-Za-z0-9_.\- ]{0,20}key(?:\s*\d)?)", r"[A-Za-z0-9+/]{43,44}={0,1}", rnd(44, B64), "Unseal Key 1",
    min_entropy=4.0)

# ---------------------------------------------------------------- private keys and tokens
KEYTYPES = r"(?:RSA |EC |DSA |OPENSSH |ENCRYPTED |SSH2 ENCRYPTED |ED25519 |PGP |DH |X25519 )?"
pem_body = "\n".join(rnd(64, B64) for _ in range(4))
rule("keys", "secret.private_key.pem", "PEM private key", "private_key", ["PRIVATE KEY"],
     r"(?s)-----BEGIN " + KEYTYPES + r"PRIVATE KEY(?: BLOCK)?-----(?P<value>[A-Za-z0-9+/=\s:,\-\\\"'+.]{32,16384}?)-----END " + KEYTYPES + r"PRIVATE KEY(?: BLOCK)?-----",
     [f"-----BEGIN RSA PRIVATE KEY-----\n{pem_body}\n-----END RSA PRIVATE KEY-----",
      f"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA{pem_body}\n-----END OPENSSH PRIVATE KEY-----"],
     ["-----BEGIN PUBLIC KEY-----\n" + pem_body + "\n-----END PUBLIC KEY-----"], severity="critical",
     description="A PEM-armoured private key of any algorithm, including PGP private blocks.")
rule("keys", "secret.private_key.pem_truncated", "PEM private key header with key material", "private_key", ["PRIVATE KEY-----"],
     r"-----BEGIN " + KEYTYPES + r"PRIVATE KEY(?: BLOCK)?-----(?:\\r|\\n|\s|\"\s*\+\s*\")*(?P<value>[A-Za-z0-9+/]{40,})",
     [f'"-----BEGIN EC PRIVATE KEY-----\\n{rnd(64, B64)}'], ["-----BEGIN PUBLIC KEY-----\n" + rnd(64, B64)], severity="critical",
     min_entropy=4.0, description="Truncated or string-concatenated key: header plus base64 material is enough.")
rule("keys", "secret.private_key.putty", "PuTTY private key", "private_key", ["PuTTY-User-Key-File-"],
     r"(?s)(?P<value>PuTTY-User-Key-File-\d: [a-z0-9\-]+\s+Encryption: [a-z0-9\-]+.{0,8192}?Private-Lines: \d+)",
     ["PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\nPublic-Lines: 2\n" + rnd(64, B64) + "\nPrivate-Lines: 1\n" + rnd(44, B64)],
     ["PuTTY-User-Key-File is the format name"], severity="critical")
rule("keys", "secret.private_key.jwk", "JSON Web Key with private member", "private_key", ['"d"'],
     r'"d"\s*:\s*"(?P<value>[A-Za-z0-9_\-]{20,})"',
     ['{"kty":"EC","crv":"P-256","x":"' + rnd(43, URLSAFE) + '","y":"' + rnd(43, URLSAFE) + '","d":"' + rnd(43, URLSAFE) + '"}'],
     ['{"kty":"EC","crv":"P-256","x":"' + rnd(43, URLSAFE) + '","y":"' + rnd(43, URLSAFE) + '"}'], severity="critical",
     context=r""""kty"\s*:""", context_window=2000)
rule("keys", "secret.private_key.base64_pem", "Base64-encoded PEM private key", "private_key_base64",
     ["LS0tLS1CRUdJTi", "tLS0tQkVHSU4g"],
     r"\b(?P<value>LS0tLS1CRUdJTi(?:BSU0Eg|BFQyBQ|BPUEVOU1NIIFBSSVZBVEUg|BQUklWQVRF|BEU0Eg|BFTkNSWVBURUQg)[A-Za-z0-9+/]{40,}={0,2})",
     [base64.b64encode(f"-----BEGIN RSA PRIVATE KEY-----\n{rnd(64, B64)}\n".encode()).decode()],
     [base64.b64encode(f"-----BEGIN PUBLIC KEY-----\n{rnd(64, B64)}\n".encode()).decode()], severity="critical")

jwt_tok = f"{b64u(json.dumps({'alg': 'RS256', 'typ': 'JWT', 'kid': rnd(8)}))}.{b64u(json.dumps({'sub': rnd(10), 'iat': 1750000000}))}.{rnd(86, URLSAFE)}"
rule("jwt", "secret.jwt.token", "JSON Web Token", "jwt", ["eyJ"],
     r"\b(?P<value>eyJ[A-Za-z0-9_\-]{10,2000}\.eyJ[A-Za-z0-9_\-]{4,8000}(?:\.[A-Za-z0-9_\-]{0,2000})?)",
     [f"Authorization: Bearer {jwt_tok}"],
     ["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
      f"{b64u(json.dumps({'typ': 'JWT'}))}.{b64u(json.dumps({'sub': 'x'}))}.abc"],
     validator="jwt", description="Header must decode to JSON with `alg`; jwt.io's sample is a documented non-secret.")

# ---------------------------------------------------------------- connection strings and credentials
SCHEMES = r"(?:postgres(?:ql)?|mysql|mysqlx|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|oracle|couchdb|cockroachdb|clickhouse|neo4j(?:\+s)?|bolt|nats|kafka|ldaps?|ftps?|sftp|smtps?|imaps?|pop3s?|jdbc:[a-z0-9]+|mongodb\+srv|memcached|influxdb|cassandra|elasticsearch|snowflake|db2|sybase|rabbitmq|mqtt|ssh|svn|git|hdfs|s3)"
rule("db", "secret.db.url_password", "Database or broker URL with a password", "db_connection_string", ["://"],
     r"(?i)\b" + SCHEMES + r"://(?P<user>[^:/\s@'\"]{0,64}):(?P<value>[^@/\s'\"]{1,128})@[A-Za-z0-9.\-\[\]_%:,]+",
     [f"DATABASE_URL=postgres://app:{rnd(16)}@db.internal:5432/app", f"mongodb+srv://svc:{rnd(14)}@cluster0.abcde.mongodb.net/"],
     ["postgres://app:${DB_PASS}@db:5432/app", "mysql://root:password@localhost/db", "redis://:<password>@cache:6379",
      "amqp://guest:****@mq:5672"])
rule("db", "secret.db.http_basic_url", "HTTP URL with embedded credentials", "basic_auth_credentials", ["://"],
     r"(?i)\bhttps?://(?P<user>[A-Za-z0-9._%+\-]{1,64}):(?P<value>[^@/\s'\":]{3,128})@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}",
     [f"https://deploy:{rnd(18)}@git.corp.example.org/repo.git"], ["https://user:pass@host.com", "http://user:${TOKEN}@example.org"],
     min_entropy=2.5)
rule("db", "secret.db.ado_password", "ADO.NET / JDBC connection string password", "db_connection_string",
     ["password=", "pwd=", "password ="],
     r"(?i)(?:^|[;\"'\s])(?:password|pwd)\s*=\s*(?P<value>[^;'\"\s<>]{3,128})",
     [f"Server=tcp:sql1.corp.net,1433;Database=app;User ID=svc;Password={rnd(14)};Encrypt=True"],
     ["Server=sql1;Database=app;User ID=svc;Password={0};", "Server=sql1;User ID=sa;Password=********;"],
     context=r"(?i)(?:server|data source|host|uid|user id|user|database|initial catalog)\s*=", context_window=160)
rule("db", "secret.db.jdbc_password", "JDBC URL with password parameter", "db_connection_string", ["jdbc:"],
     r"(?i)jdbc:[a-z0-9]+:[^\s'\"]*?[;?&]password=(?P<value>[^;&\s'\"]{3,128})",
     [f"jdbc:sqlserver://db1:1433;databaseName=app;user=svc;password={rnd(12)}"], ["jdbc:mysql://db/app?user=u&password=${PW}"])
rule("db", "secret.db.netrc", "netrc credentials", "netrc_credentials", ["machine"],
     r"(?m)machine\s+\S+\s+login\s+\S+\s+password\s+(?P<value>\S{3,128})",
     [f"machine api.corp.net login deploy password {rnd(20)}"], ["machine api.corp.net login deploy password $TOKEN"])
rule("db", "secret.db.authorization_basic", "HTTP Basic Authorization header", "http_basic_authentication", ["Basic "],
     r"(?i)authorization\s*[:=]\s*[\"']?basic\s+(?P<value>[A-Za-z0-9+/]{8,256}={0,2})",
     [f"Authorization: Basic {base64.b64encode(('svc:' + rnd(14)).encode()).decode()}"], ["Authorization: Basic ${CREDS}"],
     min_entropy=3.0)
rule("db", "secret.db.authorization_bearer", "HTTP Bearer token", "http_bearer_token", ["Bearer "],
     r"(?i)(?:authorization\s*[:=]\s*[\"']?|-H\s+[\"']authorization:\s*)bearer\s+(?P<value>[A-Za-z0-9_\-.=~+/]{12,2048})",
     [f"Authorization: Bearer {rnd(40, URLSAFE)}"], ["Authorization: Bearer <token>", "Authorization: Bearer $ACCESS_TOKEN"],
     min_entropy=3.5)
rule("db", "secret.db.cli_password", "Password passed on a command line", "cli_credentials", ["-p", "--password", "curl"],
     r"""(?i)(?:psexec|sqlcmd|mysql|mysqldump|net use|runas|connect-viserver|smbclient|sshpass|curl)\b[^\n]{0,160}?(?:\s-p|\s--password[= ]|\s-password\s|\s/p:|\s-u\s+\S+?:)\s*["']?(?P<value>[^\s"'$%<>]{4,128})""",
     [f"psexec \\\\host -u admin -p {rnd(12)} cmd.exe", f"mysql -u root --password={rnd(12)} app"],
     ["mysql -u root -p app", "psexec \\\\host -u admin -p $PW cmd"], min_entropy=2.0)
rule("db", "secret.db.networkcredential", ".NET NetworkCredential / DirectoryEntry credentials", "cli_credentials",
     ["NetworkCredential", "DirectoryEntry", "Connect-VIServer"],
     r"""(?i)(?:NetworkCredential\s*\(\s*[^,()]{1,200},|DirectoryEntry\s*\(\s*[^,()]{1,200},\s*[^,()]{1,200},)\s*"(?P<value>[^"]{4,128})"\s*(?:,|\))""",
     [f'new NetworkCredential("svc_backup", "{rnd(14)}", "CORP")'], ['new NetworkCredential(user, pass)'])
rule("db", "secret.db.viserver", "Connect-VIServer password", "cli_credentials", ["Connect-VIServer"],
     r"""(?i)Connect-VIServer\b[^\n]{0,200}?-Password\s+["']?(?P<value>[^\s"'$]{4,128})""",
     [f"Connect-VIServer -Server vc1 -User admin -Password {rnd(12)}"], ["Connect-VIServer -Server vc1 -Password $pw"])
rule("db", "secret.db.phpmailer", "PHPMailer SMTP password", "phpmailer_credentials", ["->Password"],
     r"""->Password\s*=\s*["'](?P<value>[^"']{4,128})["']""",
     [f"$mail->Password = '{rnd(14)}';"], ["$mail->Password = $smtpPass;", "$mail->Password = '';"])

rule("db", "secret.db.url_query_credential", "Credential in a URL query or form parameter", "url_credential",
     ["token=", "key=", "secret=", "password=", "auth="],
     r"(?i)(?:[?&]|\s-d\s+|\s--data(?:-urlencode)?\s+)(?:access_?token|api_?key|apikey|token|auth_?token|secret|client_secret|password|passwd|private_token)=(?P<value>[A-Za-z0-9_\-.~%+/]{16,256})",
     [f"curl https://api.example.io/v1/items?access_token={h(40)}", f"GET /search?q=x&api_key={rnd(32)}"],
     ["https://api.example.io/v1/items?token=${TOKEN}", "?api_key=YOUR_API_KEY_HERE_PLEASE"], min_entropy=3.5,
     validator="secret_value", confidence=0.7)
rule("db", "secret.db.thingsboard_url", "ThingsBoard device token in an API path", "thingsboard_access_token", ["/api/v1/"],
     r"/api/v1/(?P<value>[A-Za-z0-9]{20})/(?:telemetry|attributes|rpc|claim|provision)",
     [f"https://tb.corp.io/api/v1/{rnd(20)}/telemetry"], ["/api/v1/ACCESS_TOKEN/telemetry", "/api/v1/users/telemetry"], min_entropy=3.5)
rule("db", "secret.db.blynk_client_credentials", "Blynk OAuth client credentials", "blynk_token", ["oa2-client-id_"],
     r"oa2-client-id_[A-Za-z0-9_\-]{20,40}:(?P<value>[A-Za-z0-9]{30,50})",
     [f"-u oa2-client-id_{rnd(32, URLSAFE)}:{rnd(40)}"], ["oa2-client-id_abc:secret"], min_entropy=3.8)
rule("db", "secret.db.truenas_api_key", "TrueNAS API key in a login call", "truenas_api_key", ["login_with_api_key"],
     r'login_with_api_key"[^\[]{0,40}\[\s*"(?P<value>\d{1,4}-[A-Za-z0-9]{64})"',
     ['{"msg":"method","method":"auth.login_with_api_key","params":["3-' + rnd(64) + '"]}'],
     ['{"method":"auth.login_with_api_key","params":["<key>"]}'])
rule("db", "secret.db.okta_ssws", "Okta API token in an SSWS header", "okta_api_token", ["SSWS"],
     r"SSWS\s+(?P<value>00[A-Za-z0-9_\-]{40})" + E, [f"Authorization: SSWS 00{rnd(40, URLSAFE)}"], ["Authorization: SSWS ${OKTA_TOKEN}"],
     min_entropy=3.8)
rule("db", "secret.db.pixie_key", "New Relic Pixie key", "new_relic_pixie_key", ["px-api-", "px-dep-"],
     r"\b(?P<value>px-(?:api|dep)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b",
     [f"PX_API_KEY=px-api-{uuid()}"], ["px-api-short"])
rule("db", "secret.db.sonar_login", "SonarQube legacy token", "sonarqube_token", ["sonar"],
     r"""(?i)sonar[A-Za-z0-9_.\-]{0,20}(?:login|token)["']?\s*(?:[:=]|,\s*["']|\s)\s*["']?(?P<value>[0-9a-f]{40})\b""",
     [f"-Dsonar.login={h(40)}"], ["-Dsonar.login=${SONAR_TOKEN}"], min_entropy=3.2)
rule("db", "secret.db.figma_legacy", "Figma token (legacy)", "figma_token", ["figma"],
     r"(?i)figma[A-Za-z0-9_.\-]{0,20}token[\"']?\s*[:=]\s*[\"']?(?P<value>\d{3,6}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
     [f"X-Figma-Token: 1234-{uuid()}"], ["X-Figma-Token: <token>"])
rule("keys", "secret.private_key.ado_pat_v2", "Azure DevOps PAT (84-char format)", "azure_devops_pat", ["AZDO"],
     r"\b(?P<value>[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4})\b", [rnd(52) + "JQQJ99" + rnd(18) + "AZDO" + rnd(4)], ["AZDO" + rnd(10)],
     min_entropy=4.0)
rule("chat", "secret.chat.discord_bot_token_bare", "Discord bot token (no context)", "discord_bot_token", [],
     r"(?:^|[^A-Za-z0-9_\-])(?P<value>[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38})(?:[^A-Za-z0-9_\-]|$)",
     [f"M{rnd(25, URLSAFE)}.{rnd(6, URLSAFE)}.{rnd(38, URLSAFE)}"], ["M.abc.def", "Nabc.defghi.jkl"], min_entropy=4.2, confidence=0.7)
rule("chat", "secret.chat.twitch_stream_key_bare", "Twitch stream key", "twitch_stream_key", ["live_"],
     r"\b(?P<value>live_\d{6,12}_[A-Za-z0-9]{30})\b", [f"live_{rnd(9, string.digits)}_{rnd(30)}"], ["live_stream_key"], min_entropy=3.5)

rule("db", "secret.db.api_key_header", "API key in an HTTP header", "api_key_header",
     ["x-api-key", "x-auth-token", "x-api-token", "api-key:", "x-access-token"],
     r"""(?i)\b(?:x-api-key|x-auth-token|x-api-token|api-key|x-access-token)["']?\s*:\s*["']?(?P<value>[A-Za-z0-9_\-.=+/]{16,256})""",
     [f"curl -H 'X-API-Key: {rnd(32)}' https://api.vendor.io"], ["X-API-Key: <your-key>", "X-API-Key: $API_KEY"],
     min_entropy=3.5, validator="secret_value", confidence=0.8)
rule("db", "secret.db.authorization_token", "Authorization token header", "http_bearer_token", ["token "],
     r"""(?i)authorization\s*:\s*["']?token\s+(?P<value>[A-Za-z0-9_\-.]{20,256})""",
     [f"Authorization: token {h(40)}"], ["Authorization: token $GITHUB_TOKEN"], min_entropy=3.3)
prefixed("ci", "alibaba_access_key", "Alibaba Cloud AccessKey ID", "alibaba_access_key", "LTAI",
         r"\b(?P<value>LTAI[A-Za-z0-9]{12,20})\b", f"LTAI{rnd(20)}", min_entropy=3.5)
ctx("ci", "alibaba_secret", "Alibaba Cloud AccessKey secret", "alibaba_secret", ["alibaba", "aliyun", "access_key_secret"],
    r"(?:alibaba|aliyun|alicloud)?[A-Za-z0-9_.\-]{0,20}access_?key_?secret", r"[A-Za-z0-9]{30}", rnd(30), "ALIBABA_ACCESS_KEY_SECRET",
    min_entropy=4.0)
prefixed("gcp", "fcm_server_key", "Firebase Cloud Messaging server key", "fcm_server_key", "AAAA",
         r"\b(?P<value>AAAA[A-Za-z0-9_\-]{7}:[A-Za-z0-9_\-]{140})" + E, f"AAAA{rnd(7, URLSAFE)}:APA91b{rnd(134, URLSAFE)}")
prefixed("ci", "yandex", "Yandex Cloud token", "yandex_token", ["AQVN", "y0_", "t1."],
         r"\b(?P<value>(?:AQVN[A-Za-z0-9_\-]{35,38}|y0_[A-Za-z0-9_\-]{55}|t1\.[A-Z0-9a-z_\-]+[=]{0,2}\.[A-Z0-9a-z_\-]{86}[=]{0,2}))" + E,
         f"AQVN{rnd(36, URLSAFE)}", min_entropy=4.0)

# ---------------------------------------------------------------- password hashes
salt = lambda n: rnd(n, ALNUM + "./")
rule("hashes", "secret.hash.bcrypt", "bcrypt hash", "password_hash", ["$2a$", "$2b$", "$2y$", "$2x$", "$2$"],
     r"(?P<value>\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53})", [f"admin:$2b$12${salt(53)}"], ["$2b$12$short"])
rule("hashes", "secret.hash.sha_crypt", "sha256/sha512-crypt hash", "password_hash", ["$5$", "$6$"],
     r"(?P<value>\$[56]\$(?:rounds=\d{1,9}\$)?[./A-Za-z0-9]{1,16}\$(?:[./A-Za-z0-9]{86}|[./A-Za-z0-9]{43}))(?:[^./A-Za-z0-9]|$)",
     [f"root:$6${salt(16)}${salt(86)}:19000:0:99999:7:::"], ["$6$salt$short"])
rule("hashes", "secret.hash.md5_crypt", "md5-crypt / apr1 hash", "password_hash", ["$1$", "$apr1$"],
     r"(?P<value>\$(?:1|apr1)\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22})(?:[^./A-Za-z0-9]|$)",
     [f"user:$apr1${salt(8)}${salt(22)}"], ["$1$abc$short"])
rule("hashes", "secret.hash.yescrypt", "yescrypt hash", "password_hash", ["$y$", "$gy$", "$7$"],
     r"(?P<value>\$(?:y|gy|7)\$[./A-Za-z0-9]{1,30}\$[./A-Za-z0-9]{1,86}\$[./A-Za-z0-9]{43})(?:[^./A-Za-z0-9]|$)",
     [f"alice:$y$j9T${salt(22)}${salt(43)}:19500:0:99999:7:::"], ["$y$j9T$short"])
rule("hashes", "secret.hash.argon2", "Argon2 hash", "password_hash", ["$argon2"],
     r"(?P<value>\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{11,64}\$[A-Za-z0-9+/]{16,128})",
     [f"$argon2id$v=19$m=65536,t=3,p=4${rnd(22, B64)}${rnd(43, B64)}"], ["$argon2id$v=19$m=65536,t=3,p=4$short"])
rule("hashes", "secret.hash.pbkdf2", "PBKDF2 / Django password hash", "password_hash", ["pbkdf2_sha", "$pbkdf2"],
     r"(?P<value>(?:pbkdf2_sha(?:1|256|512)\$\d{3,7}\$[A-Za-z0-9+/=.]{4,64}\$[A-Za-z0-9+/=]{27,88}|\$pbkdf2(?:-sha(?:256|512))?\$\d+\$[./A-Za-z0-9]{8,64}\$[./A-Za-z0-9]{27,88}))",
     [f"pbkdf2_sha256$870000${rnd(22)}${rnd(43, B64)}="], ["pbkdf2_sha256 is the default hasher"])
rule("hashes", "secret.hash.cisco", "Cisco type 8/9 secret", "password_hash", ["$8$", "$9$"],
     r"(?P<value>\$[89]\$[./A-Za-z0-9]{14}\$[./A-Za-z0-9]{43})(?:[^./A-Za-z0-9]|$)",
     [f"enable secret 9 $9${salt(14)}${salt(43)}"], ["$9$short$x"])
rule("hashes", "secret.hash.kerberos", "Kerberos AS-REP / TGS roastable hash", "password_hash", ["$krb5asrep$", "$krb5tgs$", "$krb5pa$"],
     r"(?P<value>\$krb5(?:asrep|tgs|pa)\$\d{1,2}\$[^\s]{0,200}?\$?[0-9a-fA-F]{32}\$[0-9a-fA-F]{64,})",
     [f"$krb5asrep$23${h(32)}${h(200)}"], ["$krb5asrep$23$short"])
rule("hashes", "secret.hash.ntlm_pwdump", "NTLM hash dump line", "password_hash", [":::"],
     r"(?m)(?P<value>[^:\s]{1,64}:\d{1,10}:[0-9A-Fa-f]{32}:[0-9A-Fa-f]{32}):::",
     [f"Administrator:500:aad3b435b51404eeaad3b435b51404ee:{h(32)}:::"], ["Administrator:500:::"], min_entropy=2.5)

# ---------------------------------------------------------------- generic assignments
# `key` alone is a dictionary key, a cache key, a sort key; only kinds of key that name a
# credential (a service account key, an app's encryption key) count.
KEYNAMES = r"(?:passw(?:or)?d|passwd|pwd|passphrase|secret|token|api_?key|apikey|access_?key|auth_?key|client_?secret|private_?key|credential|creds|(?:service|master|signing|encryption|app|admin|priv)_?key)"
GKW = ["password", "passwd", "pwd", "passphrase", "secret", "token", "api_key", "apikey", "api-key", "access_key",
       "accesskey", "auth", "credential", "creds", "private_key", "pass", "service_key", "servicekey", "master_key",
       "masterkey", "signing_key", "signingkey", "encryption_key", "encryptionkey", "app_key", "appkey", "admin_key",
       "adminkey", "priv_key", "privkey", "privatekey"]
rule("generic", "secret.generic.quoted_assignment", "Credential assigned to a quoted literal", "generic_secret", GKW,
     r"""(?i)[A-Za-z0-9_.\-]{0,40}""" + KEYNAMES + r"""[A-Za-z0-9_.\-]{0,30}["']?\]?[ \t]*(?:[:=]|:=|=>|==|!=|\?\?|\|\|)[ \t]*[@rbuf]?\\?["'`](?P<value>[^"'\s\\]{6,200})\\?["'`]""",
     [f'db_password = "{rnd(6)}#{rnd(8)}"', f"'api_key': '{rnd(32)}'", f"const AUTH_TOKEN = `{rnd(24)}`",
      'SIGNING_KEY = "Zr8vQ2mX7tLp4Wn9Kd3B"', "ENV['API_TOKEN'] = 'Wq4Lz8Rt2Xm6Kp9Vb3Nd'"],
     ['password = os.environ["DB_PASSWORD"]', 'api_key = ""', 'password = "${DB_PASSWORD}"', 'token_type = "refresh_token"',
      'password = "password"', 'password_field = "user_password"', 'secret_access_key = "Qm7#tLx2pRk9Wv"',
      'cache_key = "user_profile_v2"', 'sort_key = "created_at"', 'api_key_header = "X-API-Key"',
      'private_key_path = "~/.ssh/id_rsa"', 'secret_name = "prod/db/creds"'],
     min_entropy=2.5, validator="generic_secret", confidence=0.7, version=2,  # 2: key, operator and value on one line
     description="Generic: the value must not be a reference or a word, and must have entropy; a key a vendor rule owns (`secret_access_key`) is left to that rule's format.")
rule("generic", "secret.generic.unquoted_assignment", "Credential in an env/ini/yaml line", "generic_secret", GKW,
     r"""(?im)^[ \t#/]*(?:export[ \t]+|set[ \t]+)?[A-Za-z0-9_.\-]{0,40}""" + KEYNAMES + r"""[A-Za-z0-9_.\-]{0,30}[ \t]*(?:[:=]|:=|=>)[ \t]*(?P<value>[^\s"'`#;,{}\[\]()]{8,200})[ \t]*(?:#.*)?$""",
     [f"DB_PASSWORD={rnd(10)}!{rnd(4)}", f"smtp_password: {rnd(16)}", f"REACT_APP_API_KEY={rnd(28)}",
      "APP_KEY=base64:q7Jt2mZxR9vLp4Wn8Kd3BfH6sY1cE0aU5gT="],
     ["DB_PASSWORD=$DB_PASSWORD", "password: ${PASSWORD}", "SECRET_KEY=changeme", "PASSWORD=process.env.PASSWORD",
      "token: refresh_token_ttl", "export AWS_SECRET_ACCESS_KEY=d3adb33f0c0ffee1234a5b6c7d8e9f00a1b2c3d4e5",
      "APP_KEY=", "partition_key: tenant_id", "master_key: config/master.key"],
     min_entropy=2.5, validator="generic_secret", confidence=0.6,
     version=2)  # 2: `export`/`set` and the key on one line
rule("generic", "secret.generic.comparison", "Credential compared with a literal", "generic_secret", GKW,
     r"""(?i)""" + KEYNAMES + r"""[A-Za-z0-9_.\-]{0,20}[ \t]*(?:==|!=|===|!==|\.equals\()[ \t]*["'](?P<value>[^"'\s]{6,200})["']""",
     [f'if password == "{rnd(4)}{rnd(4, string.digits)}!":'], ['if password == "":', 'if token == "null":'],
     min_entropy=2.5, validator="secret_value", confidence=0.6,
     version=2)  # 2: the comparison on one line
rule("generic", "secret.generic.cpp_call", "Credential passed to a constructor or assign", "generic_secret", GKW,
     r"""(?i)""" + KEYNAMES + r"""[A-Za-z0-9_]{0,20}(?:\.assign)?\(\s*"(?P<value>[^"\s]{8,200})\"""",
     [f'std::string secret("{rnd(20, ALNUM + "#$%")}");'], ['std::string secret("");', 'set_password(get_password())'],
     min_entropy=3.5, validator="secret_value", confidence=0.6)
# Password-named keys: people choose these values, so they are often single words or short
# strings that no entropy gate would pass. The key must *end* in the password word
# (`db_password`, `AdminPassword`, `REACT_APP_PASS`; not `password_field` or `bypass`), and the
# `password_value` validator drops references, placeholders, labels and field names instead.
PW_WORDS = r"(?:passw(?:or)?d|passwd|passphrase|pwd|passwort|kennwort|contrase(?:ña|na)|senha|wachtwoord|motdepasse|losenord|salasana|haslo|heslo|parola)"
# The match starts at the password word, not at the start of the key (a leading identifier run
# would make every identifier character a match candidate, and cost throughput). The word is
# preceded by a non-quote (camelCase `AdminPassword`, `db_password`; bare `pass` only after a
# separator), or quoted on both sides: a word right after an opening quote and not closed
# (`"Password:",next:"…"`) is the text of another string, and matching it pairs the wrong quotes.
PW_KEY = (r"""(?:(?:^|[^"'`])""" + PW_WORDS + r"""["']?|(?:^|[^A-Za-z0-9"'`])pass["']?|["'](?:""" + PW_WORDS
          + r"""|pass)["'])""")
# `pass` alone is a common English word (passed, compass): only its key-shaped spellings enable
# the rules, so prose does not pay for them.
PWKW = ["password", "passwd", "pwd", "passphrase", "_pass", "-pass", ".pass", "pass=", "pass:", "pass =", "pass :",
        "pass\"", "pass'", "passwort", "kennwort", "contraseña", "contrasena", "senha",
        "wachtwoord", "motdepasse", "losenord", "salasana", "haslo", "heslo", "parola"]
rule("generic", "secret.generic.password_quoted", "Password assigned to a quoted literal", "generic_password", PWKW,
     r"""(?i)""" + PW_KEY + r"""\]?\s*(?:[:=]|:=|=>|\?\?|\|\|)\s*[@rbuf]?\\?["'`](?P<value>[^"'\s\\]{4,200})\\?["'`]""",
     [f'password = "{rnd(4, string.ascii_lowercase)}{rnd(3, string.ascii_lowercase)}"', 'my_password := "hunter22"',
      f"'AdminPassword': '{rnd(9, string.ascii_lowercase)}'", f'$db_pass = \\"{rnd(8, string.ascii_lowercase)}\\";'],
     ['password = "password"', 'password: "Passwort"', 'labels:"Password:",next:"Remember me:"', 'url = "/reset-password":"/auth/x"', 'password = ""', 'password_field = "secretive"', 'bypass = "override"',
      'password = "${DB_PASSWORD}"', 'password: "<your password>"', "password = 'required'", 'password = "123"',
      'password: "String"', 'password = "self.pw"'],
     validator="password_value", confidence=0.6,
     description="Passwords are chosen by people: no entropy gate, but references, placeholders and labels are rejected.")
rule("generic", "secret.generic.password_env", "Password in a dotenv, ini or YAML line", "generic_password", PWKW,
     r"""(?im)^[ \t#;/\-]*(?:export[ \t]+|set[ \t]+)?(?:[A-Za-z0-9_.\-]{0,40}[_.\-])?(?:""" + PW_WORDS + r"""|pass)(?:=|[ \t]*:[ \t]+)(?P<value>[^\s"'`#;,{}\[\]()]{4,200})[ \t]*(?:#.*)?$""",
     [f"REACT_APP_AUTH_PASSWORD={rnd(9, string.ascii_lowercase)}", f"# SMTP_PASS={rnd(8, string.ascii_lowercase)}",
      f"Password={rnd(12, string.ascii_lowercase)}", f"  password: {rnd(10, string.ascii_lowercase)}"],
     ["DB_PASSWORD=$DB_PASSWORD", "password: ${PASSWORD}", "password: !vault |", "password: *default_pw", "PASSWORD=changeme",
      "password: required", "password: string", "bypass=enabled", "PASSWORD=process.env.PASSWORD"],
     validator="password_value", confidence=0.5,
     description="`KEY=value` with no spaces (dotenv, ini) or `key: value` (YAML) where the key ends in a password word.")
rule("generic", "secret.generic.password_prose", "Password stated in prose", "generic_password",
     ["password", "passphrase", "passwort", "kennwort", "mot de passe", "contraseña", "contrasena", "senha", "wachtwoord"],
     r"""(?i)\b(?:pass(?:word|phrase)|passwort|kennwort|mot de passe|contrase(?:ña|na)|senha|wachtwoord)(?:[ \t]+[^\s.!?]{1,24}){0,4}?[ \t]+(?:is|ist|est|es|é|was|would be|will be)\s*:?\s*["'‘“«„`]\s?(?P<value>[^"'’”»“`\s]{4,64})\s?["'’”»“`]""",
     ["The default password is 'bl00berry'", 'The password for user "svc" is "centipede"', "Das Passwort ist „kaffee42“"],
     ["The password is 'required'", "The password field is 'hidden' by default", "your password is 'your password'"],
     validator="password_value", confidence=0.5)
rule("generic", "secret.generic.password_compare", "Password or secret compared with a literal", "generic_password",
     PWKW + ["secret", "token", "apikey", "api_key"],
     r"""(?i)(?:""" + PW_KEY + r"""|(?:secret|token|api_?key)["']?)\s*(?:===?|!==?|\.equals\()\s*["'](?P<value>[^"'\s]{4,200})["']""",
     ['if creds.Secret != "open-sesame" {', "if password =='logmein':"],
     ['if token == "null":', 'if password == "":', 'if token_type == "bearer":'], validator="password_value", confidence=0.5)
rule("generic", "secret.generic.name_value_args", "Credential name and value as adjacent string arguments", "generic_secret", GKW,
     r"""(?i)["'](?:[A-Za-z0-9_.\-]{0,40}""" + KEYNAMES + r"""[A-Za-z0-9_.\-]{0,20})["']\s*,\s*["']{1,2}(?P<value>[^"'\s\\]{8,200})["']""",
     [f"buildConfigField 'String', 'API_KEY', '\"{h(32)}\"'", f'os.environ.setdefault("SECRET_KEY", "{rnd(40, ALNUM + "!@#%^&*")}")'],
     ['config.get("API_KEY", "")', 'getenv("API_KEY", "default")', 'put("token", "access_token")'],
     min_entropy=3.0, validator="secret_value", confidence=0.6,
     description="`buildConfigField`, `setdefault`, `put`: the name is a string argument and the value follows it.")
rule("generic", "secret.generic.terraform_default", "Credential as a Terraform variable default", "generic_secret", ["variable"],
     r"""(?is)variable\s+"[A-Za-z0-9_\-]{0,40}""" + KEYNAMES + r"""[A-Za-z0-9_\-]{0,30}"\s*\{[^}]{0,300}?default\s*=\s*"(?P<value>[^"\s]{8,200})\"""",
     [f'variable "okta_api_token" {{\n  default = "00{rnd(40, URLSAFE)}"\n}}'],
     ['variable "api_token" {\n  default = ""\n}', 'variable "api_token" {\n  type = string\n}'],
     min_entropy=3.0, validator="secret_value", confidence=0.6)
rule("generic", "secret.generic.xml_config", "Credential in an XML/.NET config attribute", "generic_secret",
     ["password", "secret", "apikey", "token", "connectionString"],
     r"""(?i)<add\s+key\s*=\s*"[A-Za-z0-9_.\-]{0,40}(?:passw(?:or)?d|pwd|secret|api_?key|token)[A-Za-z0-9_.\-]{0,20}"\s+value\s*=\s*"(?P<value>[^"]{6,200})\"""",
     [f'<add key="SmtpPassword" value="{rnd(14)}" />'], ['<add key="SmtpPassword" value="" />'],
     min_entropy=2.5, validator="secret_value")

# ================================================================ PII
# Boundaries for grouped digit forms: not glued to a longer run of digit groups on either side
# (`4111 1111 1111 1111` must not yield a 4-4-4 or 3-3-3 number from its middle).
GROUP_L = r"(?:^|[^0-9A-Za-z\-.:+(\s]|(?:^|[^0-9\-.:])\s)"
GROUP_R = r"(?:$|[^0-9A-Za-z\-:\s]|\s(?:[^0-9\s]|$)|\s\s)"
def luhn_complete(prefix, length):
    while True:
        body = prefix + "".join(R.choice(string.digits) for _ in range(length - len(prefix) - 1))
        for c in string.digits:
            s = body + c
            tot = 0
            for i, x in enumerate(reversed([int(d) for d in s])):
                if i % 2:
                    x *= 2
                    x = x - 9 if x > 9 else x
                tot += x
            if tot % 10 == 0:
                return s


def fmt4(s, sep=" "):
    return sep.join(s[i:i + 4] for i in range(0, len(s), 4))


visa = luhn_complete("4", 16)
mc2 = luhn_complete("2301", 16)
amex = luhn_complete("37", 15)
bad = visa[:-1] + str((int(visa[-1]) + 1) % 10)
rule("cards", "pii.card.number", "Payment card number", "credit_card", [],
     r"(?:^|[^0-9A-Za-z_.\-/+\s]|(?:^|[^0-9])\s)(?P<value>(?:[1-6]\d{3}[ \-]?\d{4}[ \-]?\d{4}[ \-]?\d{1,7}|3[47]\d{2}[ \-]?\d{6}[ \-]?\d{5}|3[0689]\d{2}[ \-]?\d{6}[ \-]?\d{4}))(?:[^0-9A-Za-z_\-/]|\.(?:\D|$)|$)",
     [f"card: {fmt4(visa)}", f"Mastercard {fmt4(mc2, '-')}", f"amex {amex[:4]} {amex[4:10]} {amex[10:]}", f"paid with {visa}"],
     [f"card: {fmt4(bad)}", "order 1234 5678 9012 3456", "ts 1700000000000", f"id-{visa}-x", "4111111111111111" .replace("1", "0"),
      f"account XK35 {fmt4(visa)} 70"],
     validator="payment_card", confidence=0.9,
     description="Visa, Mastercard (51–55, 2221–2720), Amex, Discover, JCB, Diners, UnionPay, Maestro, UATP with Luhn. Not the middle of a longer run of digit groups (an IBAN-like `XX35 2600 …`).")
FILES["cards"][-1]["severity"] = "high"


def iban_make(cc, bban):
    num = "".join(str(int(c, 36)) for c in bban + cc + "00")
    check = 98 - int(num) % 97
    return f"{cc}{check:02d}{bban}"


gb = iban_make("GB", "NWBK" + rnd(14, string.digits))
de = iban_make("DE", rnd(18, string.digits))
fr = iban_make("FR", rnd(10, string.digits) + rnd(11, UPPER_ALNUM) + rnd(2, string.digits))
gb_bad = gb[:-1] + str((int(gb[-1]) + 1) % 10)
rule("bank", "pii.bank.iban", "IBAN", "iban", [],
     r"(?:^|[^A-Za-z0-9])(?P<value>[A-Z]{2}\d{2}[A-Z0-9]{11,30}|[A-Z]{2}\d{2}(?:[ \-][A-Z0-9]{4}){2,7}(?:[ \-][A-Z0-9]{1,3})?)(?:[^A-Za-z0-9]|$)",
     [f"IBAN: {gb}", f"Konto {fmt4(de)}", f"iban {fmt4(fr)}"], [f"IBAN: {gb_bad}", "XX12 3456 7890 1234 5678"],
     validator="iban", confidence=0.95)
rule("bank", "pii.bank.aba_routing", "ABA routing number", "aba_routing", ["routing", "ABA", "RTN", "transit"],
     r"(?:^|\D)(?P<value>\d{4}-?\d{4}-?\d|\d{9})(?:\D|$)",
     ["routing number: 021000021", "ABA 0260-0959-3"], ["routing number: 021000022", "021000021"],
     validator="aba_routing", context=r"(?i)routing|\bABA\b|\bRTN\b|transit", context_window=60)
rule("bank", "pii.bank.aba_routing_micr", "ABA routing number (4-4-1 MICR grouping)", "aba_routing", ["-"],
     r"(?:^|[^0-9A-Za-z\-.])(?P<value>\d{4}-\d{4}-\d)(?:[^0-9A-Za-z\-]|$)", ["0260-0959-3", "RTN: 0210-0002-1"],
     ["0260-0959-4", "0260-0959-3-1"], validator="aba_routing", confidence=0.6)
FILES["bank"][-1]["keywords"] = []
rule("bank", "pii.bank.us_account", "US bank account number", "us_bank_account", ["account"],
     r"(?i)(?:bank\s+)?account\s*(?:number|no\.?|#)\s*[:#]?\s*(?P<value>\d{8,17})\b",
     ["bank account number: 4456789012"], ["account number: 1234", "account number: 00000000"],
     min_entropy=2.0, context=r"(?i)bank|checking|savings|routing|deposit", context_window=80)


def ssn():
    while True:
        a = R.randint(1, 899)
        if a != 666:
            return f"{a:03d}-{R.randint(1, 99):02d}-{R.randint(1, 9999):04d}"


s1 = ssn()
rule("us", "pii.us.ssn", "US Social Security number", "us_ssn", ["-", " ", "."],
     r"(?:^|[^0-9A-Za-z\-.])(?P<value>\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}|\d{3}\.\d{2}\.\d{4})(?:[^0-9A-Za-z\-]|\.(?:\D|$)|$)",
     [f"SSN: {s1}", f"ssn {s1.replace('-', ' ')}"], ["SSN: 666-12-3456", "SSN: 123-00-4567", "call 800-55-0000"],
     validator="us_ssn", confidence=0.85)
FILES["us"][-1]["keywords"] = []
rule("us", "pii.us.ssn_nodash", "US Social Security number (no separators)", "us_ssn", ["ssn", "social security", "SSN#", "sozialversicherung"],
     r"(?:^|\D)(?P<value>\d{9})(?:\D|$)", [f"SSN {s1.replace('-', '')}"], [f"order {s1.replace('-', '')}", "SSN 666123456"],
     validator="us_ssn", context=r"(?i)\bssn\b|social\s+security|\bSS#|tax\s*id|taxpayer", context_window=40)
rule("us", "pii.us.itin", "US ITIN", "us_itin", ["9"],
     r"(?:^|[^0-9A-Za-z\-.])(?P<value>9\d{2}[\- ]?(?:5[0-9]|6[0-5]|7\d|8[0-8]|9[0-2]|9[4-9])[\- ]?\d{4})(?:[^0-9A-Za-z\-]|$)",
     ["ITIN: 912-78-3456", "itin 950 91 1234"], ["ITIN: 912-45-3456", "ITIN: 812-78-3456"], validator="us_itin")
FILES["us"][-1]["keywords"] = []
FILES["us"][-1]["pattern"] = r"(?:^|[^0-9A-Za-z\-.])(?P<value>9\d{2}-(?:5[0-9]|6[0-5]|7\d|8[0-8]|9[0-2]|9[4-9])-\d{4}|9\d{2} (?:5[0-9]|6[0-5]|7\d|8[0-8]|9[0-2]|9[4-9]) \d{4})(?:[^0-9A-Za-z\-]|$)"
rule("us", "pii.us.itin_nodash", "US ITIN (no separators)", "us_itin", ["itin", "taxpayer", "tax id"],
     r"(?:^|\D)(?P<value>9\d{2}(?:5[0-9]|6[0-5]|7\d|8[0-8]|9[0-2]|9[4-9])\d{4})(?:\D|$)", ["ITIN 912783456"],
     ["ITIN 912453456", "order 912783456"], validator="us_itin",
     context=r"(?i)\bitin\b|taxpayer|tax\s*id", context_window=40)
rule("us", "pii.us.passport", "US passport number", "us_passport", ["passport", "travel document"],
     r"(?:^|[^A-Za-z0-9])(?P<value>[A-Z]?\d{8,9})(?:[^A-Za-z0-9]|$)", ["passport no. A12345678", "Passport: 561234987"],
     ["order A12345678", "passport office hours 9-5"], context=r"(?i)passport|travel\s+document", context_window=40,
     min_entropy=2.0)
rule("us", "pii.us.drivers_license", "US driver's license number", "us_driver_license", ["driver", "licence", "license", "DL#", "DLN"],
     r"(?:^|[^A-Za-z0-9])(?P<value>[A-Z]\d{7,12}|[A-Z]{2}\d{6,8}|\d{7,9})(?:[^A-Za-z0-9]|$)",
     ["driver's license number: D1234567"], ["license: MIT", "driver version 1234567"],
     context=r"(?i)driver'?s?\s*licen[cs]e|\bDLN?\b|DL#", context_window=40, min_entropy=2.0)

nhs_digits = None
while nhs_digits is None:
    d = [R.randint(0, 9) for _ in range(9)]
    c = 11 - sum(x * (10 - i) for i, x in enumerate(d)) % 11
    c = 0 if c == 11 else c
    if c != 10:
        nhs_digits = "".join(map(str, d)) + str(c)
nhs = f"{nhs_digits[:3]} {nhs_digits[3:6]} {nhs_digits[6:]}"
nhs_bad = nhs[:-1] + str((int(nhs[-1]) + 1) % 10)
rule("uk", "pii.uk.nhs", "UK NHS number", "uk_nhs", ["nhs", "health", "patient", "hospital", "gp", "medical"],
     r"(?:^|[^0-9A-Za-z\-.])(?P<value>\d{3} \d{3} \d{4}|\d{3}-\d{3}-\d{4}|\d{10})(?:[^0-9A-Za-z\-]|$)",
     [f"NHS number {nhs}", f"NHS no {nhs_digits}"], [f"NHS number {nhs_bad}"], validator="uk_nhs",
     context=r"(?i)\bnhs\b|health|patient|hospital|\bgp\b|medical", context_window=60)
rule("uk", "pii.uk.nhs_formatted", "UK NHS number (3-3-4)", "uk_nhs", [],
     r"(?:^|[^0-9A-Za-z\-.+(\s]|(?:^|[^0-9\s])\s)(?P<value>\d{3} \d{3} \d{4}|\d{3}-\d{3}-\d{4})(?:[^0-9A-Za-z\-]|$)",
     [f"ref {nhs}"], [f"ref {nhs_bad}", "call 555-123-4567"], validator="uk_nhs", confidence=0.6)
rule("uk", "pii.uk.nino", "UK National Insurance number", "uk_nino", [],
     r"(?i)(?:^|[^A-Za-z0-9])(?P<value>[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D])(?:[^A-Za-z0-9]|$)",
     ["NI number: AB 12 34 56 C", "nino JG123456A"], ["NI number: BG 12 34 56 C", "AB 12 34 56 E"], validator="uk_nino")


def nir():
    body = f"{R.choice('12')}{R.randint(40, 99):02d}{R.randint(1, 12):02d}{R.randint(1, 95):02d}{R.randint(1, 990):03d}{R.randint(1, 999):03d}"
    return body + f"{97 - int(body) % 97:02d}"


n1 = nir()
rule("eu", "pii.fr.nir", "French social security number (NIR)", "fr_nir", [],
     r"(?:^|[^0-9A-Za-z])(?P<value>[12] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2})(?:[^0-9A-Za-z]|$)",
     [f"NIR {n1[0]} {n1[1:3]} {n1[3:5]} {n1[5:7]} {n1[7:10]} {n1[10:13]} {n1[13:]}", f"sécu: {n1}"],
     [f"NIR {n1[:-2]}{(int(n1[-2:]) % 97) + 1:02d}"], validator="fr_nir")
L = "TRWAGMYFPDXBNJZSQVHLCKE"
dni_n = R.randint(10000000, 99999999)
rule("eu", "pii.es.dni", "Spanish DNI/NIE", "es_nif", [],
     r"(?i)(?:^|[^A-Za-z0-9])(?P<value>(?:\d{7,8}|[XYZ]\d{7})-?[A-Z])(?:[^A-Za-z0-9]|$)",
     [f"DNI {dni_n}{L[dni_n % 23]}", f"NIE X{dni_n % 10000000:07d}-{L[(dni_n % 10000000) % 23]}"],
     [f"DNI {dni_n}{L[(dni_n + 1) % 23]}"], validator="es_dni")
rule("eu", "pii.it.codice_fiscale", "Italian codice fiscale", "it_fiscal_code", [],
     r"(?i)(?:^|[^A-Za-z0-9])(?P<value>[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z])(?:[^A-Za-z0-9]|$)",
     ["CF: RSSMRA85T10A562S"], ["CF: RSSMRA85T10A562T"], validator="it_codice_fiscale",
     version=2)  # 2: month letter and day of birth checked


def steuer():
    while True:
        d = [R.randint(1, 9)] + [R.randint(0, 9) for _ in range(9)]
        p = 10
        for x in d:
            s = (x + p) % 10
            s = 10 if s == 0 else s
            p = (2 * s) % 11
        c = 11 - p
        c = 0 if c == 10 else c
        return "".join(map(str, d)) + str(c)


st = steuer()
rule("eu", "pii.de.steuer_id", "German tax identification number", "de_tax_id", ["steuer", "IdNr", "TIN", "tax"],
     r"(?:^|\D)(?P<value>[1-9]\d(?: ?\d{3}){3}|[1-9]\d{10})(?:\D|$)", [f"Steuer-ID: {st}"],
     [f"Steuer-ID: {st[:-1]}{(int(st[-1]) + 1) % 10}", f"Bestellung {st}"], validator="de_steuer_id",
     context=r"(?i)steuer|\bIdNr\b|identifikationsnummer|\bTIN\b|tax\s*id", context_window=40)


def pesel():
    y, m, d = R.randint(50, 99), R.randint(1, 12), R.randint(1, 28)
    b = f"{y:02d}{m:02d}{d:02d}{R.randint(0, 9999):04d}"
    w = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]
    return b + str((10 - sum(int(a) * c for a, c in zip(b, w)) % 10) % 10)


ps = pesel()
rule("eu", "pii.pl.pesel", "Polish PESEL", "pl_pesel", ["pesel"], r"(?:^|\D)(?P<value>\d{11})(?:\D|$)", [f"PESEL: {ps}"],
     [f"PESEL: {ps[:-1]}{(int(ps[-1]) + 1) % 10}", f"numer {ps}"], validator="pl_pesel", context=r"(?i)pesel", context_window=40)


rule("eu", "pii.pl.pesel_bare", "Polish PESEL (no context)", "pl_pesel", [],
     r"(?:^|[^0-9A-Za-z\-.,/])(?P<value>\d{11})(?:[^0-9A-Za-z\-/]|[.,](?:\D|$)|$)", [f"{ps}", f"nr {ps}."],
     [f"{ps[:-1]}{(int(ps[-1]) + 1) % 10}", f"v{ps}", f"{ps}1"], validator="pl_pesel", confidence=0.6,
     description="Weighted check digit and an encoded birth date: about 2% of random 11-digit numbers pass, few enough to need no context.")


def hetu():
    dd, mm, yy = R.randint(1, 28), R.randint(1, 12), R.randint(0, 99)
    z = R.randint(2, 899)
    n = int(f"{dd:02d}{mm:02d}{yy:02d}{z:03d}")
    return f"{dd:02d}{mm:02d}{yy:02d}-{z:03d}{'0123456789ABCDEFHJKLMNPRSTUVWXY'[n % 31]}"


ht = hetu()
rule("eu", "pii.fi.hetu", "Finnish personal identity code", "fi_hetu", [],
     r"(?i)(?:^|[^0-9])(?P<value>\d{6}[+\-A-FU-Y]\d{3}[0-9A-Y])(?:[^A-Za-z0-9]|$)", [f"HETU {ht}", f"tunnus:{ht}", f"code is{ht}."],
     [f"HETU {ht[:-1]}{'Z' if ht[-1] != 'Z' else 'Y'}", f"9{ht}"], validator="fi_hetu",
     description="A date, a century sign and a mod-31 check character: strong enough that a word glued in front (text extracted without spaces) does not matter.")


def pnr():
    while True:
        b = f"{R.randint(50, 99):02d}{R.randint(1, 12):02d}{R.randint(1, 28):02d}{R.randint(0, 999):03d}"
        for c in string.digits:
            s = b + c
            t = 0
            for i, x in enumerate(reversed([int(q) for q in s])):
                if i % 2:
                    x *= 2
                    x = x - 9 if x > 9 else x
                t += x
            if t % 10 == 0:
                return s


pn = pnr()
rule("eu", "pii.se.personnummer", "Swedish personnummer", "se_personnummer", [],
     r"(?:^|[^0-9A-Za-z\-])(?P<value>(?:19|20)?\d{6}[\-+]\d{4})(?:[^0-9A-Za-z\-]|$)", [f"pnr {pn[:6]}-{pn[6:]}"],
     [f"pnr {pn[:6]}-{pn[6:9]}{(int(pn[9]) + 1) % 10}"], validator="se_personnummer")
rule("eu", "pii.se.personnummer_full", "Swedish personnummer (12 digits)", "se_personnummer", [],
     r"(?:^|[^0-9\-.])(?P<value>(?:18|19|20)\d{10})(?:[^0-9A-Za-z\-]|\.(?:\D|$)|$)", [f"pnr: 19{pn}", f"nummer är19{pn}."],
     [f"id 19{pn[:-1]}{(int(pn[-1]) + 1) % 10}", "ts 201513456789"], validator="se_personnummer", confidence=0.6,
     description="Century, a valid date and Luhn: rare enough by chance to need no context.")
rule("eu", "pii.se.personnummer_bare", "Swedish personnummer (10 digits, no context)", "se_personnummer", [],
     r"(?:^|[^0-9A-Za-z\-.,/])(?P<value>\d{10})(?:[^0-9A-Za-z\-/]|[.,](?:\D|$)|$)", [pn], [f"{pn[:-1]}{(int(pn[-1]) + 1) % 10}", "1718035200"],
     validator="se_personnummer", confidence=0.5,
     description="A valid YYMMDD date and Luhn: under 1% of random 10-digit numbers pass.")
rule("eu", "pii.se.personnummer_compact", "Swedish personnummer (compact)", "se_personnummer", ["personnummer", "pnr", "person"],
     r"(?:^|\D)(?P<value>(?:1[89]|20)\d{10}|\d{10})(?:\D|$)", [f"personnummer 19{pn}"], [f"order 19{pn}"],
     validator="se_personnummer", context=r"(?i)personnummer|\bpnr\b|personal identity|person", context_window=40)

aad = None
D = [[0,1,2,3,4,5,6,7,8,9],[1,2,3,4,0,6,7,8,9,5],[2,3,4,0,1,7,8,9,5,6],[3,4,0,1,2,8,9,5,6,7],[4,0,1,2,3,9,5,6,7,8],
     [5,9,8,7,6,0,4,3,2,1],[6,5,9,8,7,1,0,4,3,2],[7,6,5,9,8,2,1,0,4,3],[8,7,6,5,9,3,2,1,0,4],[9,8,7,6,5,4,3,2,1,0]]
# The permutation rows are powers of row 1; src/detect/validators.rs pins the same table by test.
P = [[0,1,2,3,4,5,6,7,8,9],[1,5,7,6,2,8,3,0,9,4],[5,8,0,3,7,9,6,1,4,2],[8,9,1,6,0,4,3,5,2,7],[9,4,5,3,1,2,6,8,7,0],
     [4,2,8,6,5,7,3,9,0,1],[2,7,9,3,8,0,6,4,1,5],[7,0,4,6,9,1,3,2,5,8]]


def verhoeff_ok(s):
    c = 0
    for i, x in enumerate(reversed([int(q) for q in s])):
        c = D[c][P[i % 8][x]]
    return c == 0


while aad is None:
    b = str(R.randint(2, 9)) + "".join(R.choice(string.digits) for _ in range(10))
    for c in string.digits:
        if verhoeff_ok(b + c):
            aad = b + c
rule("in", "pii.in.aadhaar", "Indian Aadhaar number", "in_aadhaar", ["aadhaar", "aadhar", "uid", "आधार", "unique identification"],
     r"(?:^|[^0-9A-Za-z\-.])(?P<value>[2-9]\d{3} \d{4} \d{4}|[2-9]\d{3}-\d{4}-\d{4}|[2-9]\d{11})(?:[^0-9A-Za-z\-]|$)",
     [f"Aadhaar {aad[:4]} {aad[4:8]} {aad[8:]}", f"aadhaar: {aad}"], [f"Aadhaar {aad[:-1]}{(int(aad[-1]) + 1) % 10}"],
     validator="aadhaar", context=r"(?i)aadhaa?r|\buidai?\b|आधार|unique identification", context_window=60,
     version=2)  # 2: Verhoeff permutation table corrected (row 4 was wrong)
# Grouped 4-4-4 is how the UIDAI prints the number; with Verhoeff (1 in 10) and the grouping, a
# random look-alike is rare, so this form needs no context word. Bare 12-digit runs still do.
rule("in", "pii.in.aadhaar_grouped", "Indian Aadhaar number (grouped 4-4-4)", "in_aadhaar", [],
     GROUP_L + r"(?P<value>[2-9]\d{3} \d{4} \d{4}|[2-9]\d{3}-\d{4}-\d{4}|[2-9]\d{3}:\d{4}:\d{4})" + GROUP_R,
     [f"ID {aad[:4]} {aad[4:8]} {aad[8:]}", f"{aad[:4]}-{aad[4:8]}-{aad[8:]}", f"{aad[:4]}:{aad[4:8]}:{aad[8:]}"],
     [f"ID {aad[:4]} {aad[4:8]} {aad[8:11]}{(int(aad[-1]) + 1) % 10}", f"card 4111 {aad[:4]} {aad[4:8]} {aad[8:]}",
      f"{aad[:4]} {aad[4:8]} {aad[8:]} 1234"],
     validator="aadhaar", confidence=0.7, version=2)
rule("in", "pii.in.pan", "Indian PAN", "in_pan", [],
     r"(?:^|[^A-Za-z0-9])(?P<value>[A-Z]{3}[PCHFATBLJG][A-Z]\d{4}[A-Z])(?:[^A-Za-z0-9]|$)", ["PAN: ABCPK1234Q"],
     ["PAN: ABCXK1234Q", "ABCDEFGHIJ"], validator="in_pan")


def sin():
    return luhn_complete(str(R.choice([1, 2, 3, 4, 5, 6, 7, 9])), 9)


sn = sin()
rule("intl", "pii.ca.sin", "Canadian SIN", "ca_sin", ["sin", "social insurance", "NAS", "assurance sociale"],
     r"(?:^|[^0-9A-Za-z\-.])(?P<value>\d{3} \d{3} \d{3}|\d{3}-\d{3}-\d{3})(?:[^0-9A-Za-z\-]|$)", [f"SIN {sn[:3]} {sn[3:6]} {sn[6:]}"],
     [f"SIN {sn[:3]} {sn[3:6]} {sn[6:8]}{(int(sn[8]) + 1) % 10}"], validator="ca_sin",
     context=r"(?i)\bsin\b|social\s+insurance|\bNAS\b|assurance\s+sociale", context_window=60)
rule("intl", "pii.ca.sin_grouped", "Canadian SIN (grouped 3-3-3)", "ca_sin", [],
     r"(?:^|[^0-9A-Za-z\-.+/])(?P<value>[1-79]\d{2}-\d{3}-\d{3})(?:[^0-9A-Za-z\-/]|\.(?:\D|$)|$)",
     [f"{sn[:3]}-{sn[3:6]}-{sn[6:]}", f"no. {sn[:3]}-{sn[3:6]}-{sn[6:]}"],
     [f"{sn[:3]}-{sn[3:6]}-{sn[6:8]}{(int(sn[8]) + 1) % 10}", f"416-{sn[:3]}-{sn[3:6]}-{sn[6:]}", f"{sn[:3]} {sn[3:6]} {sn[6:]}"],
     validator="ca_sin", confidence=0.6,
     description="3-3-3 with dashes plus Luhn needs no context word; with spaces the same digits are a number with thousands separators (fr, sv, ru), so that form keeps its context rule.")
rule("intl", "pii.ca.sin_bare", "Canadian SIN (no separators)", "ca_sin", ["sin", "social insurance"],
     r"(?:^|\D)(?P<value>\d{9})(?:\D|$)", [f"SIN: {sn}"], [f"order {sn}"], validator="ca_sin",
     context=r"(?i)\bsin\b|social\s+insurance", context_window=40)
rule("intl", "pii.au.tfn", "Australian TFN", "au_tfn", ["tfn", "tax file"],
     r"(?:^|\D)(?P<value>\d{3}[ \-]?\d{3}[ \-]?\d{3})(?:\D|$)", ["TFN: 876 543 210"], ["TFN: 876 543 211", "order 876 543 210"],
     validator="au_tfn", context=r"(?i)\btfn\b|tax\s+file", context_window=40)
rule("intl", "pii.sg.nric", "Singapore NRIC/FIN", "sg_fin", [],
     r"(?i)(?:^|[^A-Za-z0-9])(?P<value>[STFGM]\d{7}[A-Z])(?:[^A-Za-z0-9]|$)", ["NRIC S1234567D"], ["NRIC S1234567E"],
     validator="sg_nric")

# contact and network
rule("contact", "pii.email.address", "E-mail address", "email", ["@"],
     r"(?:^|[^A-Za-z0-9._%+\-:]|(?:^|[^/A-Za-z0-9._%+\-:])[A-Za-z][A-Za-z0-9_\-]{0,30}:)(?P<value>[A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,62}[A-Za-z0-9_%+\-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,24}|xn--[a-z0-9]{2,30}))\b",
     ["write to jane.doe@corp-mail.co.uk today", "a@xn--d1acufc.xn--p1ai", '<a href="mailto:jane.doe@corp-mail.co.uk">',
      "E-Mail:j.doe@firma-mail.de"],
     ["user@localhost", "@mention in chat", "git@github.com:org/repo.git", "image@2x.png",
      "https://deploy:Zq8pWx2@git.corp-mail.co.uk/repo.git"],
     allow=[r"(?i)^(?:git|noreply|no-reply)@", r"(?i)@\d+x\.(?:png|jpe?g|gif|webp|svg)$", r"(?i)\.(?:png|jpe?g|gif|svg|webp|css|js)$"])
PHONE_CTX = r"(?i)phone|\btel\b|tel[.:]|\btél\b|tél[.:]|telephone|mobile|\bcell\b|\bcall\b|fax|telefon|téléphone|teléfono|telefono|portable|móvil|celular|handy|whatsapp|contact|\b(?:my|your|his|her|our|their|home|work|office|direct|emergency)\b[^\n.]{0,20}\bnumber\b|\bph\b|ring|sms|text me|reach me|numéro|номер|電話"
rule("contact", "pii.phone.e164", "Phone number with country code", "phone", ["+"],
     r"(?:^|[^0-9A-Za-z+])(?P<value>\+[1-9]\d{0,2}[ .\-]?(?:\(0?\d{1,4}\)[ .\-]?)?\d{1,4}(?:[ .\-]?\d{2,4}){1,4})(?:[^0-9A-Za-z]|$)",
     ["call +44 20 7946 0958", "+49 30 901820", "Tel: +1 (415) 555-0132", "+14155550132"],
     ["version +1.2.3", "+1", "sum +1234"], min_entropy=1.5, confidence=0.8, validator="phone")
rule("contact", "pii.phone.national", "Phone number (national form, with context)", "phone", [],
     r"(?:^|[^0-9A-Za-z+\-.])(?P<value>(?:\(\d{2,5}\)[ .\-]?\d{3,4}[ .\-]?\d{3,4}|0\d{1,4}[ .\-/]\d{3,4}[ .\-]?\d{3,4}|0[1-9](?:[ .\-]\d{2}){4}|\d{3}[.\-]\d{3}[.\-]\d{4}|0\d{9,10}|1[3-9]\d{9}|\d{2,3}-\d{7}))(?:[^0-9A-Za-z\-]|$)",
     ["phone: (555) 123-4567", "Tel. 020 7946 0958", "mobile 0612345678", "call me at 415-555-0132", "tél : 06 12 34 56 78",
      "portable 07.81.23.45.67"],
     ["order (555) 123-4567", "ISBN 020 7946 0958", "2024-01-15"], context=PHONE_CTX, context_window=60, min_entropy=1.5,
     validator="phone")
# The context words double as prefilter keywords: the rule cannot fire without one.
FILES["contact"][-1]["keywords"] = ["phone", "tel", "tél", "mobile", "cell", "call", "fax", "telefon", "téléphone", "teléfono",
                                    "telefono", "portable", "móvil", "celular", "handy",
                                    "whatsapp", "contact", "number", "ph", "ring", "sms", "text me", "reach me", "num",
                                    "номер", "電話"]
rule("contact", "pii.phone.us_formatted", "US phone number (formatted)", "phone", ["("],
     r"(?:^|[^0-9A-Za-z])(?P<value>\(\d{3}\)\s?\d{3}-\d{4})(?:[^0-9A-Za-z]|$)", ["reach (415) 555-0199 anytime"],
     ["f(415) 555-01990"], confidence=0.7)
rule("contact", "pii.phone.nanp_dashed", "North American phone number (3-3-4 with dashes)", "phone", ["-"],
     r"(?:^|[^0-9A-Za-z\-.+/])(?P<value>(?:1-)?[2-9]\d{2}-[2-9]\d{2}-\d{4})(?:[^0-9A-Za-z\-/]|\.(?:\D|$)|$)",
     ["US: 415-555-0132", "1-800-555-0199"], ["401-023-2138", "415-555-01321", "2024-555-0132"], validator="nanp", confidence=0.6,
     description="NANP numbering: area code and exchange start with 2-9; the dashed 3-3-4 form is the North American convention.")
FILES["contact"][-1]["keywords"] = []
rule("net", "pii.net.ipv4", "IPv4 address", "ip_address", ["."],
     r"(?:^|[^0-9A-Za-z.\-_/])(?P<value>(?:\d{1,3}\.){3}\d{1,3})(?:[^0-9A-Za-z.\-_]|\.(?:\s|$)|$)",
     ["client 203.0.113.42 connected", "ssh root@10.20.30.40", "bind 0.0.0.0", "mapped ::ffff:198.51.100.7", "host:203.0.113.9"], ["version 1.2.3.4", "v1.2.3.4", "300.1.1.1", "1.2.3.4.5"],
     validator="ipv4", allow=[r"^[1-9]\.\d\.\d\.\d$|^\d\.[1-9]\.\d\.\d$|^\d\.\d\.[1-9]\.\d$|^\d\.\d\.\d\.[1-9]$"])
FILES["net"][-1]["keywords"] = []
FILES["net"][-1]["description"] = "Four single-digit parts (1.2.3.4) are versions or placeholders (0.0.0.0, the any-address, is not), and a letter before (v1.2.3.4) rules it out."
rule("net", "pii.net.ipv6", "IPv6 address", "ip_address", [":"],
     r"(?i)(?:^|[^0-9A-Za-z:.\-_])(?P<value>(?:[0-9a-f]{1,4}:){1,7}:?(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?(?:(?:\d{1,3}\.){3}\d{1,3})?|::(?:[0-9a-f]{1,4}:){0,5}(?:[0-9a-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3}))(?:[^0-9A-Za-z:.\-_]|\.(?:\s|$)|$)",
     ["host 2001:db8:85a3::8a2e:370:7334 up", "addr fe80:0:0:0:200:f8ff:fe21:67cf"], ["std::vector", "12:30:45", "a::b"],
     validator="ipv6")
rule("net", "pii.net.ipv6_prefix", "IPv6 network in CIDR notation", "ip_address", ["::/", ":/"],
     r"(?i)(?:^|[^0-9A-Za-z:.\-_/])(?P<value>(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}/\d{1,3})(?:[^0-9A-Za-z:.\-_/]|$)",
     ["route fe80::/10", "::/0", "allow 2001:db8:1::/48"], ["std::/x", "a:b:/99"], validator="ipv6_cidr")
rule("net", "pii.net.ipv6_loopback", "IPv6 loopback address", "ip_address", ["::1"],
     r"(?:^|[\s=(\[\"',;])(?P<value>::1)(?:[\s)\]\"',;/]|$)", ["my ip: ::1", "connect [::1]:8080"], ["Foo::1", "x ::12:z"])
rule("net", "pii.net.ipv6_unspecified", "IPv6 unspecified address (with context)", "ip_address", ["::"],
     r"(?:^|[\s=(\[\"',;])(?P<value>::)(?:[\s)\]\"',;]|$)", ["listen on ipv6 ::", "src=:: dst=::1"],
     ["foo :: Int -> Int", "example ::"],
     context=r"(?i)\bip(?:v6)?\b|address|\baddr\b|\bsrc\b|\bdst\b|\bbind\b|listen|unspecified|any-?address", context_window=32)
rule("net", "pii.net.mac", "MAC address", "mac_address", [":", "-"],
     r"(?i)(?:^|[^0-9A-Za-z:\-])(?P<value>[0-9a-f]{2}(?:[:\-][0-9a-f]{2}){5})(?:[^0-9A-Za-z:\-]|$)",
     ["MAC 3c:22:fb:9a:10:07"], ["MAC 00:00:00:00:00:00", "time 12:30:45:10:20"], validator="mac")
rule("net", "pii.net.mac_cisco", "MAC address (Cisco dotted)", "mac_address", ["."],
     r"(?i)(?:^|[^0-9A-Za-z.])(?P<value>[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})(?:[^0-9A-Za-z.]|$)",
     ["interface mac 3c22.fb9a.1007"], ["version 1234.5678.9012", "0000.0000.0000"], validator="mac")
rule("crypto", "pii.crypto.btc_base58", "Bitcoin address (legacy)", "crypto_wallet", [],
     r"(?:^|[^A-Za-z0-9])(?P<value>[13][1-9A-HJ-NP-Za-km-z]{25,34})(?:[^A-Za-z0-9]|$)",
     ["send to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"],
     ["send to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"], validator="btc_base58")
rule("crypto", "pii.crypto.bech32", "Bitcoin address (segwit)", "crypto_wallet", ["bc1", "tb1"],
     r"(?i)(?:^|[^A-Za-z0-9])(?P<value>(?:bc|tb)1[02-9ac-hj-np-z]{11,87})(?:[^A-Za-z0-9]|$)",
     ["bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"], ["bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr"], validator="bech32")
rule("crypto", "pii.crypto.eth", "Ethereum address", "crypto_wallet", ["0x"],
     r"(?:^|[^A-Za-z0-9])(?P<value>0x[0-9a-fA-F]{40})(?:[^A-Za-z0-9]|$)", ["wallet: 0x52908400098527886E0F7030069857D2E4169EE7"],
     ["wallet: 0x0000000000000000000000000000000000000000", "hash 0x52908400098527886E0F7030069857D2E4169EE7"],
     validator="eth_address", context=r"(?i)wallet|address|\beth\b|ether|send|pay|deposit|withdraw|metamask|\bto\b|\bfrom\b",
     context_window=40)

# ---------------------------------------------------------------- later additions
# Appended after the tables so that the seeded values of the rules above stay unchanged.
# Signing secrets are often typed or generated from the whole printable range, quotes included
# (`"7`D'}/…"`): inside a quoted literal that ends the line, the value runs to the closing quote.
rule("saas", "secret.saas.jwt_secret_quoted", "JWT signing secret (quoted, any printable)", "json_web_token_secret", ["jwt"],
     r"""(?im)jwt[A-Za-z0-9_.\-]{0,20}(?:secret|key)["']?[ \t]*(?:[:=]|=>)[ \t]*["'](?P<value>[^\r\n]{16,128}?)["'][ \t]*[,;]?[ \t]*$""",
     [f"jwtSecret: \"{rnd(8)}'{rnd(6, '!#%&*+-;:/?')}{rnd(10)}\"", f"JWT_SECRET = '{rnd(12)}\"{rnd(12, ALNUM + '`~^[]{}')}'"],
     ["jwt_secret: \"${JWT_SECRET}\"", "jwtSecret = 'change me to something long'", "jwt_key: 'short'"],
     min_entropy=3.5, validator="secret_value", confidence=0.6)
# Gradle's DSL sets repository credentials with method-call syntax (`password 'x'`, no `=`),
# which the assignment rules do not see; inside a `credentials { }` block a literal is hardcoded.
rule("registries", "secret.registries.gradle_credentials_block", "Gradle repository credentials block password", "gradle_password",
     ["credentials"],
     r"""(?s)\bcredentials\s*\{[^}]{0,400}?\bpassword\s*(?:=\s*)?["'](?P<value>[^"'\s$]{4,128})["']""",
     [f"credentials {{\n    username 'deploy'\n    password '{rnd(14)}'\n}}",
      f'maven {{\n  credentials {{\n    username = "ci"\n    password = "{rnd(10)}-{rnd(6)}"\n  }}\n}}'],
     ["credentials {\n    username mavenUser\n    password mavenPassword\n}",
      'credentials {\n    password "${System.getenv(\'REPO_PW\')}"\n}', "credentials {\n    password = ''\n}"],
     confidence=0.6, description="A literal in a Gradle `credentials { }` block; properties and `${...}` are references.")

# Own generator: values drawn here do not shift the seeded values of the tables above.
R2 = random.Random(20261202)


def steuer_strict():
    """A Steuer-ID as allocated: one digit of the first ten repeated (twice), check digit last."""
    while True:
        d = R2.sample(range(10), 9)
        if d[0] == 0:
            continue
        d.insert(R2.randint(1, 9), R2.choice(d))
        if any(d[i] == d[i + 1] == d[i + 2] for i in range(8)):
            continue
        p = 10
        for x in d:
            q = (x + p) % 10
            p = (2 * (10 if q == 0 else q)) % 11
        c = 11 - p
        return "".join(map(str, d)) + str(0 if c == 10 else c)


st2 = steuer_strict()
rule("eu", "pii.de.steuer_id_bare", "German tax identification number (no context)", "de_tax_id", [],
     r"(?:^|[^0-9A-Za-z\-.,/])(?P<value>[1-9]\d{10})(?:[^0-9A-Za-z\-/]|[.,](?:\D|$)|$)", [st2, f"IdNr {st2}."],
     [f"{st2[:-1]}{(int(st2[-1]) + 1) % 10}", "12345678903", "13812345678", f"v{st2}", f"{st2}1"],
     validator="de_steuer_id_strict", confidence=0.5,
     description="Check digit plus the allocation pattern (one digit of the first ten repeated): about 0.3% of random 11-digit numbers pass, phone numbers almost never.")

# Vendor tokens with documented prefixes (formats from each vendor's API documentation).
def r2(n, alpha=ALNUM):
    return "".join(R2.choice(alpha) for _ in range(n))


def uuid2():
    return f"{r2(8, HEX)}-{r2(4, HEX)}-4{r2(3, HEX)}-a{r2(3, HEX)}-{r2(12, HEX)}"


rule("saas", "secret.saas.brevo", "Brevo (Sendinblue) API or SMTP key", "brevo_api_key", ["xkeysib-", "xsmtpsib-"],
     r"\b(?P<value>x(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16})\b",
     [f"BREVO_API_KEY=xkeysib-{r2(64, HEX)}-{r2(16)}"], ["xkeysib-short", "api-key: xkeysib-<your key>"])
rule("saas", "secret.saas.langfuse", "Langfuse secret key", "langfuse_secret_key", ["sk-lf-"],
     r"\b(?P<value>sk-lf-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b",
     [f"LANGFUSE_SECRET_KEY=sk-lf-{uuid2()}"], [f"LANGFUSE_PUBLIC_KEY=pk-lf-{uuid2()}", "sk-lf-..."])
rule("saas", "secret.saas.onepassword_service_account", "1Password service account token", "onepassword_token", ["ops_eyJ"],
     r"\b(?P<value>ops_eyJ[A-Za-z0-9+/=_\-]{100,2000})",
     [f"OP_SERVICE_ACCOUNT_TOKEN=ops_{b64u(json.dumps({'signInAddress': 'my.1password.com', 'email': r2(12).lower() + '@1passwordserviceaccounts.com', 'secretKey': r2(30)}))}"],
     ["OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ..."], min_entropy=4.0)
rule("ci", "secret.ci.tencent_secret_id", "Tencent Cloud SecretId", "tencent_secret_id", ["AKID"],
     r"\b(?P<value>AKID[A-Za-z0-9]{32})\b", [f"TENCENTCLOUD_SECRET_ID=AKID{r2(32)}"], ["AKIDshort", "AKID" + "x" * 32],
     min_entropy=3.8)
rule("ci", "secret.ci.scaleway_access_key", "Scaleway access key", "scaleway_access_key", ["SCW"],
     r"\b(?P<value>SCW[A-Z0-9]{17})\b", [f"SCW_ACCESS_KEY=SCW{r2(17, UPPER_ALNUM)}"], ["SCW_ACCESS_KEY=SCWXXXXXXXXXXXXXXXXX", "SCWSHORT"],
     min_entropy=3.2)
rule("saas", "secret.saas.cloudinary_url", "Cloudinary URL with API secret", "cloudinary_credentials", ["cloudinary://"],
     r"cloudinary://\d{6,20}:(?P<value>[A-Za-z0-9_\-]{20,40})@[A-Za-z0-9_\-]+",
     [f"CLOUDINARY_URL=cloudinary://{r2(15, string.digits)}:{r2(27, URLSAFE)}@acme-media"],
     ["CLOUDINARY_URL=cloudinary://<api_key>:<api_secret>@<cloud_name>"], min_entropy=3.5)
rule("registries", "secret.registries.docker_config_auth", "Docker registry credentials (config.json auths)", "docker_registry_auth",
     ['"auth"'],
     r'"auth"\s*:\s*"(?P<value>[A-Za-z0-9+/]{8,1024}={0,2})"',
     ['{"auths": {"registry.corp.io": {"auth": "' + base64.b64encode(f"ci-bot:{r2(18)}".encode()).decode() + '"}}}'],
     ['{"auths": {"registry.corp.io": {"auth": ""}}}', '{"auths": {"r.io": {"auth": "' + base64.b64encode(b"ci-bot").decode() + '"}}}',
      '{"auth": "' + base64.b64encode(f"ci-bot:{r2(18)}".encode()).decode() + '"}'],
     validator="basic_auth_b64", context=r'"auths"\s*:', context_window=400,
     description="`docker login` stores base64 `user:password` under `auths`; the value must decode to that shape.")

# Credentials as XML elements (Maven settings.xml `<password>`, Spring and .NET configs).
XML_TAG = r"(?:[A-Za-z0-9_.\-]{0,30}(?:passw(?:or)?d|passwd|pwd|secret|token|api_?key|apikey|access_?key|auth_?key|client_?secret|private_?key|credential)[A-Za-z0-9_.\-]{0,20})"
rule("generic", "secret.generic.xml_element_password", "Password as an XML element", "generic_password",
     ["password>", "passwd>", "pwd>"],
     r"(?i)<(?:[A-Za-z0-9_.\-]{0,30}(?:passw(?:or)?d|passwd|pwd))>(?P<value>[^<>\s]{4,200})</",
     ["<server>\n  <id>nexus</id>\n  <username>deploy</username>\n  <password>Tr4il-mix-92</password>\n</server>",
      "<db.password>q8Zt2LmVw</db.password>"],
     ["<password>${env.NEXUS_PASSWORD}</password>", "<password></password>", "<password>password</password>",
      "<passwordEncoding>UTF-8</passwordEncoding>", "<password>{{ db_password }}</password>"],
     validator="password_value", confidence=0.6)
rule("generic", "secret.generic.xml_element", "Credential as an XML element", "generic_secret",
     ["secret", "token", "key", "credential", "passw", "pwd"],
     r"(?i)<(?P<tag>" + XML_TAG + r")>(?P<value>[^<>\s]{8,400})</",
     ["<apiKey>Hq7ZtL2vX9pW4nK8dR3m</apiKey>", "<client-secret>Zp4.Kw9~Lm2_Rx7Vt3</client-secret>"],
     ["<apiKey>${API_KEY}</apiKey>", "<token>refresh_token</token>", "<secretName>db-creds</secretName>",
      "<accessKey>ACCESS_KEY_ID</accessKey>"],
     min_entropy=3.0, validator="secret_value", confidence=0.6,
     version=2)  # 2: keywords are the tag's credential words, so `<secretValue>` and `<password>` tags count
# `--api-token VALUE`, `--client-secret=VALUE`: credentials passed as command-line flags.
rule("generic", "secret.generic.cli_flag", "Credential passed as a command-line flag", "generic_secret",
     ["--token", "--api-key", "--apikey", "--secret", "--password", "--auth-token", "--access-key", "-token", "-key", "-secret",
      "-apikey", "-password", "-passwd"],
     r"""(?i)(?:^|\s)--?(?:[a-z0-9]+-){0,3}(?:token|api-?key|apikey|secret|secret-key|access-key|auth-token|client-secret|password|passwd)(?:=|[ \t]+)["']?(?P<value>[^\s"'$%<>]{8,200})""",
     ["mytool deploy --api-token Wq4Lz8Rt2Xm6Kp9Vb3Nd", "cli login --client-secret=Zp4.Kw9~Lm2_Rx7Vt3"],
     ["mytool --api-token $API_TOKEN", "cli login --client-secret=<secret>", "--token-file ~/.config/tool/token",
      "--password-stdin", "--secret-name prod-db"],
     min_entropy=3.0, validator="secret_value", confidence=0.6,
     version=2)  # 2: single-dash `-password`/`-passwd`/`-apikey` flags are keywords too

# Single-digit dotted quads are versions unless the text says it is an address (`8.8.8.8`).
rule("net", "pii.net.ipv4_short", "IPv4 address with single-digit octets (with context)", "ip_address", ["ip", "addr", "dns", "ping", "gateway", "nameserver", "resolver"],
     r"(?:^|[^0-9A-Za-z.\-_/])(?P<value>\d\.\d\.\d\.\d)(?:[^0-9A-Za-z.\-_]|\.(?:\s|$)|$)",
     ["IP address 8.8.8.8", "nameserver 1.1.1.1", "ping 9.9.9.9"], ["version 1.2.3.4", "IP stack v1.2.3.4", "release 1.0.0.1 notes", "HTTP server 2.4.1.0", "pip install pkg==2.4.1.0"],
     validator="ipv4", context=r"(?i)\bip(?:v4)?\b|\baddr(?:ess)?\b|\bdns\b|nameserver|resolver|\bping\b|gateway",
     context_window=30, confidence=0.5)

# ---------------------------------------------------------------- emit


KNOWN_KEYS = {"id", "name", "label", "severity", "action", "version", "keywords", "pattern", "min_entropy",
              "validator", "context", "context_window", "confidence", "description", "allow", "references",
              "examples", "negative_examples"}


def toml_str(s):
    return json.dumps(s, ensure_ascii=False)


def toml_pat(s):
    if "'''" not in s and not s.endswith("'"):
        return "'''" + s + "'''"
    return toml_str(s)


def ascii_boundaries(p):
    """`\\b` -> `(?-u:\\b)`: a Unicode word boundary stops the regex crate's DFAs on non-ASCII
    text and falls back to a much slower engine; token boundaries are ASCII anyway."""
    out, i = [], 0
    while i < len(p):
        if p[i] == "\\" and i + 1 < len(p):
            out.append("(?-u:\\b)" if p[i + 1] == "b" else p[i:i + 2])
            i += 2
        else:
            out.append(p[i])
            i += 1
    return "".join(out)


def emit(root):
    for name, rules in FILES.items():
        kind = "pii" if rules[0]["id"].startswith("pii.") else "secrets"
        path = os.path.join(root, kind, f"{name}.toml")
        lines = [f"# Generated by scripts/gen_rules.py ({name}); edit the script, not this file.", ""]
        for r in rules:
            lines.append("[[rule]]")
            unknown = set(r) - KNOWN_KEYS
            assert not unknown, f"{r['id']}: the writer would drop {sorted(unknown)}"
            for k in ["id", "name", "label", "severity", "action"]:
                lines.append(f"{k} = {toml_str(r[k])}")
            if "version" in r:
                lines.append(f"version = {r['version']}")
            lines.append("keywords = [" + ", ".join(toml_str(k) for k in r["keywords"]) + "]")
            lines.append(f"pattern = {toml_pat(ascii_boundaries(r['pattern']))}")
            for k in ["min_entropy", "validator", "context", "context_window", "confidence", "description"]:
                if k in r:
                    v = r[k]
                    if k == "context":
                        lines.append(f"context = {toml_pat(v)}")
                    elif isinstance(v, str):
                        lines.append(f"{k} = {toml_str(v)}")
                    else:
                        lines.append(f"{k} = {v}")
            for k in ["allow", "references"]:
                if k in r:
                    lines.append(f"{k} = [" + ", ".join(toml_pat(x) if k == "allow" else toml_str(x) for x in r[k]) + "]")
            lines.append("examples = [" + ", ".join(toml_str(x) for x in r["examples"]) + "]")
            lines.append("negative_examples = [" + ", ".join(toml_str(x) for x in r["negative_examples"]) + "]")
            lines.append("")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))


if __name__ == "__main__":
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "detectors")
    for old in ["secrets/private_keys.toml", "pii/email.toml"]:
        p = os.path.join(root, old)
        if os.path.exists(p):
            os.remove(p)
    emit(root)
    n = sum(len(v) for v in FILES.values())
    print(f"wrote {n} rules in {len(FILES)} files")
