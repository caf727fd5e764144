import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { authorize, NotebookAccess } from '@palimpsest/auth';
import { NotebookService } from '@palimpsest/notebook';
import { DeleteCellDto, InsertCellDto, MoveCellDto, UpdateCellDto } from './dto/notebook.dto.js';
import { principalOf, type PrincipalRequest } from './principal.js';

/** Cells of a notebook: every write is one Yjs update appended to the notebook's stream. */
@ApiTags('cells')
@ApiBearerAuth()
@Controller('api/notebooks/:id/cells')
export class CellsController {
  constructor(
    private readonly notebooks: NotebookService,
    private readonly access: NotebookAccess,
  ) {}

  /** Inserts a cell (at `index`, or at the end). */
  @Post()
  @ApiOperation({ summary: 'Insert a cell; 409 on a stale expected_version' })
  insert(@Param('id') id: string, @Body() body: InsertCellDto, @Req() request: PrincipalRequest) {
    const principal = principalOf(request);
    authorize(this.access, principal, id, 'edit');
    const { expected_version, ...cell } = body;
    return this.notebooks.insertCell(id, { actor: principal.user }, cell, expected_version);
  }

  /** One cell with the notebook's version. */
  @Get(':cell_id')
  get(@Param('id') id: string, @Param('cell_id') cellId: string, @Req() request: PrincipalRequest) {
    authorize(this.access, principalOf(request), id, 'read');
    return this.notebooks.getCell(id, cellId);
  }

  /** Changes a cell's source, metadata or type. */
  @Patch(':cell_id')
  update(@Param('id') id: string, @Param('cell_id') cellId: string, @Body() body: UpdateCellDto, @Req() request: PrincipalRequest) {
    const principal = principalOf(request);
    authorize(this.access, principal, id, 'edit');
    const { expected_version, ...patch } = body;
    return this.notebooks.updateCell(id, { actor: principal.user }, cellId, patch, expected_version);
  }

  /** Deletes a cell; answers the notebook's new version. */
  @Delete(':cell_id')
  @HttpCode(200)
  remove(@Param('id') id: string, @Param('cell_id') cellId: string, @Body() body: DeleteCellDto, @Req() request: PrincipalRequest) {
    const principal = principalOf(request);
    authorize(this.access, principal, id, 'edit');
    return this.notebooks.deleteCell(id, { actor: principal.user }, cellId, body?.expected_version);
  }

  /** Moves a cell to `index`, keeping its id. */
  @Post(':cell_id/move')
  @HttpCode(200)
  move(@Param('id') id: string, @Param('cell_id') cellId: string, @Body() body: MoveCellDto, @Req() request: PrincipalRequest) {
    const principal = principalOf(request);
    authorize(this.access, principal, id, 'edit');
    return this.notebooks.moveCell(id, { actor: principal.user }, cellId, body.index, body.expected_version);
  }
}
