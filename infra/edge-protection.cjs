/**
 * osls plugin (serverless.yml `plugins:`): what protects the API at the edge, where CloudFormation alone
 * cannot express it.
 *
 * 1. Throttling (`custom.stageThrottling`): API Gateway's stage-wide rate and burst, and tighter ones for the
 *    credential routes, set after each deploy with API Gateway's UpdateStage. CloudFormation can set method
 *    settings only on a stage it creates as AWS::ApiGateway::Stage, and osls's deployments create the stage
 *    themselves ("StageDescription cannot be specified when stage referenced by StageName already exists");
 *    osls itself sets its own stage settings the same way (lib/plugins/aws/.../hack/update-stage.js). The
 *    plugins that did this (serverless-api-gateway-throttling) call provider.request(), which osls 4 removed.
 * 2. The optional AWS WAF web ACL (param `wafRateLimit`) is associated with the stage, which a stack's first
 *    deployment creates. osls names that deployment `ApiGatewayDeployment<timestamp>` anew on every package, so
 *    serverless.yml cannot name it in a DependsOn: a hook makes the association wait for it.
 */
'use strict'

/** API Gateway's patch path of a method setting: `/{resourcePath}/{httpMethod}/...`, slashes of the path as `~1`. */
const methodPath = (method, path) => `/${path.replace(/\//g, '~1')}/${method.toUpperCase()}`

/** UpdateStage's patch operations for `custom.stageThrottling`: the stage's default (`/*\/*`), then each route. */
function stageThrottlingPatch(settings) {
  const limits = (prefix, { rateLimit, burstLimit }) => [
    { op: 'replace', path: `${prefix}/throttling/rateLimit`, value: String(Number(rateLimit)) },
    { op: 'replace', path: `${prefix}/throttling/burstLimit`, value: String(Math.trunc(Number(burstLimit))) },
  ]
  return [...limits('/*/*', settings), ...(settings.routes ?? []).flatMap((route) => limits(methodPath(route.method, route.path), route))]
}

/** Sets the throttling of the deployed stage: `apiGateway` and `cloudFormation` are AWS SDK v3 clients. */
async function applyStageThrottling({ apiGateway, cloudFormation, commands, stackName, stage, settings, log }) {
  const { StackResourceDetail } = await cloudFormation.send(
    new commands.DescribeStackResourceCommand({ StackName: stackName, LogicalResourceId: 'ApiGatewayRestApi' }),
  )
  const restApiId = StackResourceDetail?.PhysicalResourceId
  if (!restApiId) throw new Error(`${stackName} has no ApiGatewayRestApi: cannot set the stage's throttling`)
  const patchOperations = stageThrottlingPatch(settings)
  await apiGateway.send(new commands.UpdateStageCommand({ restApiId, stageName: stage, patchOperations }))
  log(`throttling of stage ${stage} set: ${patchOperations.length / 2} limits (stage default and ${settings.routes?.length ?? 0} routes)`)
}

class EdgeProtection {
  constructor(serverless) {
    const provider = serverless.getProvider('aws')
    this.hooks = {
      'before:aws:package:finalize:saveServiceState': () => {
        const resources = serverless.service.provider.compiledCloudFormationTemplate.Resources
        const association = resources.EdgeWebAclAssociation
        if (!association) return
        const deployments = Object.keys(resources).filter((id) => resources[id].Type === 'AWS::ApiGateway::Deployment')
        association.DependsOn = [...new Set([...[association.DependsOn ?? []].flat(), ...deployments])]
      },
      'after:deploy:deploy': async () => {
        const settings = serverless.service.custom?.stageThrottling
        if (!settings) return
        const { APIGatewayClient, UpdateStageCommand } = require('@aws-sdk/client-api-gateway')
        const { CloudFormationClient, DescribeStackResourceCommand } = require('@aws-sdk/client-cloudformation')
        const config = await provider.getAwsSdkV3Config()
        await applyStageThrottling({
          apiGateway: new APIGatewayClient(config),
          cloudFormation: new CloudFormationClient(config),
          commands: { UpdateStageCommand, DescribeStackResourceCommand },
          stackName: provider.naming.getStackName(),
          stage: provider.getStage(),
          settings,
          log: (message) => serverless.cli.log(`[edge-protection] ${message}`),
        })
      },
    }
  }
}

module.exports = EdgeProtection
module.exports.stageThrottlingPatch = stageThrottlingPatch
module.exports.applyStageThrottling = applyStageThrottling
