/**
 * osls plugin (serverless.yml `plugins:`): refuses to deploy a stage whose secrets come from the environment
 * rather than SSM Parameter Store, that is stage `local` and any stage listed under
 * `custom.developmentSecrets`. Deploying one would ship the deployer's own environment to AWS, or, when
 * JWT_SECRET is empty, lib/config.ts's public development secret.
 *
 * Refused: the commands that put a stage's code or configuration on AWS: `deploy` (with or without
 * --package), `deploy function`, `rollback` and `rollback function`. Everything else still works for those
 * stages: `package`, `offline`, `print`, `invoke local`, and the read-only or cleanup commands (`deploy list`,
 * `info`, `logs`, `remove`: a stage deployed by mistake can still be removed).
 *
 * The check runs in the constructor. osls builds the plugins (serverless.init) before it registers the AWS
 * variable sources (${ssm:}, ${cf:}, ${s3:}; scripts/serverless.js), so nothing has asked AWS anything yet,
 * and no credentials are needed. A hook would be too late: the first one, `initialize`, runs osls's own
 * plugins' hooks before ours, and osls's deploy plugin starts an STS GetCallerIdentity call in it
 * (lib/plugins/aws/deploy/index.js).
 */
'use strict'

const REFUSED_COMMANDS = new Set(['deploy', 'deploy function', 'rollback', 'rollback function'])

class DeployGuard {
  constructor(serverless, options) {
    const command = serverless.processedInput.commands.join(' ')
    if (!REFUSED_COMMANDS.has(command) || options.help) return
    // provider.stage is `${opt:stage, 'dev'}`: --stage (-s) decides, as in AwsProvider.getStage().
    const stage = options.stage ?? serverless.service.provider.stage ?? 'dev'
    const fromEnvironment = Object.keys(serverless.service.custom?.developmentSecrets ?? {})
    if (stage !== 'local' && !fromEnvironment.includes(stage)) return
    throw new serverless.classes.Error(
      [
        `osls ${command} refused for stage "${stage}": that stage takes its secrets from the environment of the machine`,
        'running osls (stage local, and every stage under custom.developmentSecrets in serverless.yml), where an empty',
        'JWT_SECRET means the public development secret. It is for npm start and npm run package, never for AWS.',
        'Deploy a stage whose secrets are SSM parameters instead: put them at /attune-auth/<stage>/jwt-secret,',
        '/attune-auth/<stage>/database-url and the other /attune-auth/<stage>/... parameters docs/DEPLOY.md lists',
        '("Secrets and configuration"), then run `osls deploy --stage <stage>` (for example --stage dev).',
      ].join('\n'),
      'ATTUNE_DEVELOPMENT_STAGE_DEPLOY',
    )
  }
}

module.exports = DeployGuard
