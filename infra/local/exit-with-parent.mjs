/**
 * Preloaded (`node --import`) into the serverless-offline process that infra/local/start.ts spawns with
 * an IPC channel. When start.ts goes away, even by SIGKILL, the channel closes: stop serverless-offline
 * as if Ctrl-C had been pressed, so it does not keep the HTTP port and the next `npm start` works.
 */
if (process.channel) {
  process.channel.unref()
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'))
}
