import dns2 from 'dns2';

const { Packet } = dns2;

/** What the test publishes at a name: TXT records (each a list of character-strings), or a server failure. */
export type Published = string[][] | 'servfail';

export interface TestDnsServer {
  /** For GATEHOUSE_DNS_SERVERS. */
  address: string;
  /** Names (lower-case, no trailing dot) the server answers; anything else is NXDOMAIN. */
  records: Map<string, Published>;
  close(): Promise<void>;
}

/**
 * An authoritative-looking DNS server on loopback (UDP, a random port) built with dns2, an
 * implementation independent of the c-ares resolver the app uses.
 */
export async function startDnsServer(): Promise<TestDnsServer> {
  const records = new Map<string, Published>();
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [question] = request.questions;
      const published = question ? records.get(question.name.toLowerCase().replace(/\.$/, '')) : undefined;
      if (published === 'servfail') {
        response.header.rcode = Packet.RCODE.SERVFAIL;
      } else if (!published) {
        response.header.rcode = Packet.RCODE.NXDOMAIN;
      } else if (question!.type === Packet.TYPE.TXT) {
        for (const strings of published) {
          response.answers.push(new Packet.Resource({ name: question!.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 0, data: strings }));
        }
      }
      send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  return { address: `127.0.0.1:${addresses.udp!.port}`, records, close: () => server.close() };
}
