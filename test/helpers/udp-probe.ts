/**
 * UDP echo across namespaces, for the WAN emulator tests: an echo server inside one namespace, a client inside
 * another that sends numbered datagrams at a fixed pace and reports each one's round trip (or its loss).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

const ECHO = `const s=require('node:dgram').createSocket('udp4');
s.on('message',(m,r)=>s.send(m,r.port,r.address));
require('node:net').createServer((c)=>c.end()).listen(Number(process.argv[1]),
()=>s.bind(Number(process.argv[1]),()=>console.log('ready')));`

const CLIENT = `const [host,port,count,gap]=process.argv.slice(1).map((v,i)=>i?Number(v):v);
const s=require('node:dgram').createSocket('udp4');const sent=[];const rtt=new Array(count).fill(null);
s.on('message',(m)=>{const i=m.readUInt32BE(0);rtt[i]=Number(process.hrtime.bigint()-sent[i])/1e6});
let i=0;const t=setInterval(()=>{const b=Buffer.alloc(64);b.writeUInt32BE(i);sent[i]=process.hrtime.bigint();
s.send(b,port,host);if(++i===count){clearInterval(t);setTimeout(()=>{console.log(JSON.stringify(rtt));s.close()},1500)}},gap);`

/** A UDP echo server (and a TCP listener) on `port` inside `netns`; kill the returned child (by its pid) when done. */
export async function startUdpEcho(netns: string, port: number): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', ECHO, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string]
  if (line !== 'ready') throw new Error(`udp echo in ${netns}: ${line}`)
  return child
}

/** Round trips in ms, one per datagram sent (null: lost). */
export function udpRoundTrips(
  netns: string,
  target: { host: string; port: number },
  count: number,
  gapMs = 5,
): Promise<Array<number | null>> {
  const args = ['netns', 'exec', netns, process.execPath, '-e', CLIENT, target.host, String(target.port)]
  return new Promise((resolve, reject) => {
    execFile('ip', [...args, String(count), String(gapMs)], { timeout: 120_000 }, (err, stdout) => {
      if (err !== null) reject(new Error(`udp client in ${netns}: ${err.message}`, { cause: err }))
      else resolve(JSON.parse(stdout) as Array<number | null>)
    })
  })
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}
