// The unauthenticated entry points: /redfish, the service root, the OData service document and $metadata.
import type { Router } from 'express';
import { link, odataMeta, type RedfishContext } from '../context.ts';
import { type AuthFor, route, sendResource } from '../http.ts';
import { csdl, odataType } from '../schemas/catalog.ts';

export const REDFISH_VERSION = '1.22.0';

/** Top-level services, named as in the OData service document. */
const SERVICES = [
  ['Systems', '/redfish/v1/Systems'],
  ['Chassis', '/redfish/v1/Chassis'],
  ['Managers', '/redfish/v1/Managers'],
  ['SessionService', '/redfish/v1/SessionService'],
  ['AccountService', '/redfish/v1/AccountService'],
  ['EventService', '/redfish/v1/EventService'],
] as const;

function serviceRoot(ctx: RedfishContext): Record<string, unknown> {
  return {
    ...odataMeta('/redfish/v1/', odataType('ServiceRoot')),
    Id: 'RootService',
    Name: 'Root Service',
    RedfishVersion: REDFISH_VERSION,
    UUID: ctx.machine.info.uuid,
    Product: 'qemu-bmc',
    Vendor: 'qemu-bmc',
    ProtocolFeaturesSupported: {
      ExpandQuery: { ExpandAll: false, Levels: false, Links: false, NoLinks: false },
      SelectQuery: false,
      FilterQuery: false,
      OnlyMemberQuery: false,
      ExcerptQuery: false,
    },
    ...Object.fromEntries(SERVICES.map(([name, uri]) => [name, link(uri)])),
    Links: { Sessions: link('/redfish/v1/SessionService/Sessions') },
  };
}

/** CSDL document naming every schema the service uses, at the versions shipped in schemas/csdl. */
export function metadataXml(): string {
  const refs = csdl.map((s) => {
    const includes =
      s.namespace === 'RedfishExtensions'
        ? [`    <edmx:Include Namespace="${s.latest}" Alias="Redfish"/>`]
        : [
            `    <edmx:Include Namespace="${s.namespace}"/>`,
            ...(s.latest ? [`    <edmx:Include Namespace="${s.latest}"/>`] : []),
          ];
    return [
      `  <edmx:Reference Uri="http://redfish.dmtf.org/schemas/v1/${s.file}">`,
      ...includes,
      '  </edmx:Reference>',
    ].join('\n');
  });
  const root = csdl.find((s) => s.namespace === 'ServiceRoot')?.latest;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">',
    ...refs,
    '  <edmx:DataServices>',
    '    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="Service">',
    `      <EntityContainer Name="Service" Extends="${root}.ServiceContainer"/>`,
    '    </Schema>',
    '  </edmx:DataServices>',
    '</edmx:Edmx>',
    '',
  ].join('\n');
}

export function serviceRootRoutes(router: Router, ctx: RedfishContext, authFor: AuthFor): void {
  route(
    router,
    '/redfish',
    { GET: { privilege: 'public', handle: (req, res) => sendResource(req, res, { v1: '/redfish/v1/' }) } },
    authFor,
  );
  route(
    router,
    '/redfish/v1',
    { GET: { privilege: 'public', handle: (req, res) => sendResource(req, res, serviceRoot(ctx)) } },
    authFor,
  );
  route(
    router,
    '/redfish/v1/odata',
    {
      GET: {
        privilege: 'public',
        handle: (req, res) =>
          sendResource(req, res, {
            '@odata.context': '/redfish/v1/$metadata',
            value: [
              { name: 'Service', kind: 'Singleton', url: '/redfish/v1/' },
              ...SERVICES.map(([name, url]) => ({ name, kind: 'Singleton', url })),
            ],
          }),
      },
    },
    authFor,
  );
  const xml = metadataXml();
  route(
    router,
    '/redfish/v1/$metadata',
    {
      GET: {
        privilege: 'public',
        handle: (_req, res) => {
          res.type('application/xml').send(xml);
        },
      },
    },
    authFor,
  );
}
